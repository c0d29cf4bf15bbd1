"""Programs for each renderer as strong models write them: styled, labelled, annotated, complete."""

from __future__ import annotations

import json

from tests.generators.docs.competent.scenarios import Scenario

MPL_STYLES = {
    "ggplot": 'plt.style.use("ggplot")',
    "dark": 'plt.style.use("dark_background")',
    "seaborn": 'plt.style.use("seaborn-v0_8-whitegrid")',
    "fivethirtyeight": 'plt.style.use("fivethirtyeight")',
    "plain": "",
}
PLOTLY_TEMPLATES = {
    "ggplot": "ggplot2",
    "dark": "plotly_dark",
    "seaborn": "seaborn",
    "fivethirtyeight": "simple_white",
    "plain": "plotly_white",
}
PALETTE = ["#2E86AB", "#F18F01", "#C73E1D", "#3B1F2B", "#6A994E", "#8E7DBE", "#E9C46A", "#264653"]


def _py(values: list) -> str:
    return json.dumps(values, ensure_ascii=False)


def matplotlib_code(s: Scenario, figure: str) -> str:
    labels = [r[0] for r in s.rows]
    head = ["import matplotlib.pyplot as plt", "import numpy as np", ""]
    if MPL_STYLES[s.style]:
        head.append(MPL_STYLES[s.style])
    body: list[str] = []
    if figure in ("bar chart", "horizontal bar chart"):
        values = [r[1] for r in s.rows]
        body += [f"labels = {_py(labels)}", f"values = {_py(values)}", "", "fig, ax = plt.subplots(figsize=(10, 6))"]
        if figure == "bar chart":
            body += [
                f'bars = ax.bar(labels, values, color="{PALETTE[0]}", edgecolor="white", linewidth=1.2)',
                f'ax.set_ylabel("{s.columns[1]}")',
                'plt.setp(ax.get_xticklabels(), rotation=20, ha="right")',
            ]
        else:
            body += [
                f'bars = ax.barh(labels, values, color="{PALETTE[1]}")',
                "ax.invert_yaxis()  # largest category on top reads naturally",
                f'ax.set_xlabel("{s.columns[1]}")',
            ]
        body += ['ax.bar_label(bars, fmt="{:,.0f}", padding=3, fontsize=10)']
    elif figure in ("pie chart", "donut chart"):
        values = [r[1] for r in s.rows]
        body += [
            f"labels = {_py(labels)}",
            f"shares = {_py(values)}",
            "",
            "fig, ax = plt.subplots(figsize=(9, 7))",
            "colors = plt.cm.Set3(np.linspace(0, 1, len(shares)))",
        ]
        width = ", wedgeprops=dict(width=0.42, edgecolor='white')" if figure == "donut chart" else ""
        body += [
            f'ax.pie(shares, labels=labels, autopct="%1.0f%%", startangle=90, colors=colors, pctdistance=0.8{width})',
            'ax.axis("equal")',
        ]
        if figure == "donut chart":
            body += ['ax.text(0, 0, "Total\\n100%", ha="center", va="center", fontsize=14, fontweight="bold")']
    elif figure in ("line chart", "area chart", "stacked bar chart", "grouped bar chart"):
        series = {c: [r[i + 1] for r in s.rows] for i, c in enumerate(s.columns[1:])}
        body += [f"x = {_py(labels)}", "series = {"]
        body += [f"    {json.dumps(name)}: {_py(v)}," for name, v in series.items()]
        body += ["}"]
        body += ["", "fig, ax = plt.subplots(figsize=(11, 6))"]
        if figure == "line chart":
            body += [
                "for name, ys in series.items():",
                '    ax.plot(x, ys, marker="o", linewidth=2.2, label=name)',
            ]
        elif figure == "area chart":
            body += [
                "ax.stackplot(x, *series.values(), labels=list(series), alpha=0.85)",
                "ax.margins(x=0)",
            ]
        elif figure == "stacked bar chart":
            body += [
                "bottom = np.zeros(len(x))",
                "for name, ys in series.items():",
                "    ax.bar(x, ys, bottom=bottom, label=name, width=0.6)",
                "    bottom += np.array(ys)",
            ]
        else:
            body += [
                "positions = np.arange(len(x))",
                "width = 0.8 / len(series)",
                "for i, (name, ys) in enumerate(series.items()):",
                "    bars = ax.bar(positions + i * width, ys, width, label=name)",
                "    ax.bar_label(bars, fontsize=8, padding=2)",
                "ax.set_xticks(positions + width * (len(series) - 1) / 2, x)",
            ]
        body += [f'ax.set_xlabel("{s.columns[0]}")', 'ax.legend(title="", frameon=False, loc="upper left")']
    elif figure == "scatter plot":
        body += [
            f"names = {_py(labels)}",
            f"hours = {_py([r[1] for r in s.rows])}",
            f"scores = {_py([r[2] for r in s.rows])}",
            "",
            "fig, ax = plt.subplots(figsize=(9, 6))",
            f'ax.scatter(hours, scores, s=110, color="{PALETTE[2]}", alpha=0.85, edgecolor="black")',
            "for name, h, sc in zip(names, hours, scores):",
            '    ax.annotate(name, (h, sc), textcoords="offset points", xytext=(6, 6), fontsize=10)',
            "fit = np.polyfit(hours, scores, 1)",
            'ax.plot(hours, np.polyval(fit, hours), linestyle="--", color="gray", label="Trend")',
            f'ax.set_xlabel("{s.columns[1]}")',
            f'ax.set_ylabel("{s.columns[2]}")',
            "ax.legend()",
        ]
    elif figure == "histogram":
        body += [
            f"finish_times = {_py([r[1] for r in s.rows])}",
            "",
            "fig, ax = plt.subplots(figsize=(10, 6))",
            'ax.hist(finish_times, bins=[35, 40, 45, 50, 55, 60, 65, 70, 75], color="#4C72B0", edgecolor="white")',
            "mean = np.mean(finish_times)",
            'ax.axvline(mean, color="#C44E52", linestyle="--", linewidth=2, label=f"Mean {mean:.1f} min")',
            f'ax.set_xlabel("{s.columns[1]}")',
            'ax.set_ylabel("Runners")',
            "ax.legend()",
        ]
    else:
        raise KeyError(figure)
    body += [
        f'ax.set_title("{s.title}", fontsize=15, fontweight="bold", pad=14)',
        "fig.tight_layout()",
        'plt.savefig("output.png", dpi=100, bbox_inches="tight")',
    ]
    return "\n".join(head + [""] + body) + "\n"


def plotly_code(s: Scenario, figure: str) -> str:
    labels = [r[0] for r in s.rows]
    lines = ["import plotly.graph_objects as go", ""]
    if figure == "bar chart":
        lines += [
            f"fig = go.Figure(go.Bar(x={_py(labels)}, y={_py([r[1] for r in s.rows])},",
            f'                       marker_color="{PALETTE[0]}", text={_py([r[1] for r in s.rows])}, '
            'textposition="outside"))',
        ]
    elif figure == "pie chart":
        lines += [
            f"fig = go.Figure(go.Pie(labels={_py(labels)}, values={_py([r[1] for r in s.rows])},",
            '                       hole=0, textinfo="label+percent", sort=False))',
        ]
    elif figure == "funnel chart":
        lines += [
            f"fig = go.Figure(go.Funnel(y={_py(labels)}, x={_py([r[1] for r in s.rows])},",
            '                          textinfo="value+percent initial"))',
        ]
    elif figure in ("line chart", "area chart", "grouped bar chart"):
        lines += ["fig = go.Figure()"]
        for i, name in enumerate(s.columns[1:]):
            ys = _py([r[i + 1] for r in s.rows])
            if figure == "grouped bar chart":
                lines.append(f"fig.add_trace(go.Bar(name={json.dumps(name)}, x={_py(labels)}, y={ys}))")
            else:
                fill = ', stackgroup="one"' if figure == "area chart" else ""
                trace = f'name={json.dumps(name)}, x={_py(labels)}, y={ys}, mode="lines+markers"{fill}'
                lines.append(f"fig.add_trace(go.Scatter({trace}))")
        if figure == "grouped bar chart":
            lines.append('fig.update_layout(barmode="group")')
    elif figure in ("scatter plot", "bubble chart"):
        sizes = [r[3] for r in s.rows] if figure == "bubble chart" else [14] * len(s.rows)
        lines += [
            f"names = {_py(labels)}",
            f"fig = go.Figure(go.Scatter(x={_py([r[1] for r in s.rows])}, y={_py([r[2] for r in s.rows])},",
            '                           mode="markers+text", text=names, textposition="top center",',
            f"                           marker=dict(size={_py(sizes)}, sizemode='diameter', color='{PALETTE[4]}',",
            "                                       line=dict(width=1, color='black'))))",
            f'fig.update_xaxes(title="{s.columns[1]}")',
            f'fig.update_yaxes(title="{s.columns[2]}")',
        ]
    else:
        raise KeyError(figure)
    template = PLOTLY_TEMPLATES[s.style]
    lines += [
        "fig.update_layout(",
        f'    title=dict(text="{s.title}", x=0.5, font=dict(size=20)),',
        f'    template="{template}", width=1000, height=620, margin=dict(l=70, r=40, t=90, b=70),',
        ")",
        'fig.write_image("output.png")',
    ]
    return "\n".join(lines) + "\n"


def vegalite_spec(s: Scenario, figure: str) -> dict:
    col = s.columns
    values = [dict(zip(col, row, strict=True)) for row in s.rows]
    spec: dict = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": s.title,
        "width": 560,
        "height": 340,
        "padding": 16,
        "data": {"values": values},
    }
    if figure == "bar chart":
        spec["mark"] = {"type": "bar", "cornerRadiusTopLeft": 3, "cornerRadiusTopRight": 3}
        spec["encoding"] = {
            "x": {"field": col[0], "type": "nominal", "sort": "-y", "axis": {"labelAngle": -30}},
            "y": {"field": col[1], "type": "quantitative"},
            "color": {"value": PALETTE[0]},
        }
    elif figure == "pie chart":
        spec["mark"] = {"type": "arc", "innerRadius": 0, "outerRadius": 150}
        spec["encoding"] = {
            "theta": {"field": col[1], "type": "quantitative", "stack": True},
            "color": {"field": col[0], "type": "nominal", "legend": {"title": col[0]}},
        }
        spec["width"] = spec["height"] = 340
    elif figure in ("line chart", "area chart", "heatmap"):
        spec["transform"] = [{"fold": list(col[1:]), "as": ["Series", "Value"]}]
        if figure == "heatmap":
            spec["mark"] = "rect"
            spec["encoding"] = {
                "x": {"field": col[0], "type": "ordinal", "sort": None},
                "y": {"field": "Series", "type": "nominal"},
                "color": {"field": "Value", "type": "quantitative", "scale": {"scheme": "blues"}},
            }
        else:
            line = {"type": "line", "point": True}
            spec["mark"] = line if figure == "line chart" else {"type": "area", "opacity": 0.8}
            spec["encoding"] = {
                "x": {"field": col[0], "type": "ordinal", "sort": None},
                "y": {"field": "Value", "type": "quantitative", "stack": figure == "area chart" or None},
                "color": {"field": "Series", "type": "nominal"},
            }
    elif figure == "scatter plot":
        spec["mark"] = {"type": "point", "filled": True, "size": 120}
        spec["encoding"] = {
            "x": {"field": col[1], "type": "quantitative"},
            "y": {"field": col[2], "type": "quantitative", "scale": {"zero": False}},
            "tooltip": [{"field": col[0]}],
        }
    else:
        raise KeyError(figure)
    if s.style == "dark":
        spec["background"] = "#1e1e2e"
        spec["config"] = {
            "title": {"color": "#f0f0f0", "fontSize": 18},
            "axis": {"labelColor": "#d0d0d0", "titleColor": "#d0d0d0", "gridColor": "#444"},
            "legend": {"labelColor": "#d0d0d0", "titleColor": "#d0d0d0"},
            "view": {"stroke": None},
        }
    else:
        spec["config"] = {"title": {"fontSize": 18}, "axis": {"labelFontSize": 12, "titleFontSize": 13}}
    return spec


def _tex(text: object) -> str:
    return str(text).replace("&", "\\&").replace("%", "\\%").replace("$", "\\$").replace("_", "\\_")


def latex_code(s: Scenario, figure: str) -> str:
    col, rows = s.columns, s.rows
    pre = [
        "\\documentclass[11pt]{article}",
        "\\usepackage[margin=2.2cm]{geometry}",
        "\\usepackage{booktabs}",
        "\\usepackage{tabularx}",
        "\\usepackage[table]{xcolor}",
        "\\usepackage{multirow}",
        "\\usepackage{siunitx}",
        "\\usepackage{enumitem}",
        "\\usepackage{titlesec}",
        "\\usepackage{amsmath}",
        "\\usepackage{tikz}",
        "\\titleformat{\\section}{\\large\\bfseries\\color{teal!70!black}}{}{0em}{}",
        "\\definecolor{rowgrey}{gray}{0.93}",
        "\\begin{document}",
    ]
    body: list[str] = []
    if figure == "math worksheet":
        body += [
            f"\\section*{{{_tex(s.title)}}}",
            "Name: \\rule{6cm}{0.4pt} \\hfill Date: \\rule{3cm}{0.4pt}",
            "",
            "\\medskip",
            "Simplify each answer as far as you can. Show your working in the space provided.",
            "",
            "\\begin{enumerate}[label=\\textbf{\\arabic*.}, itemsep=1.4em]",
        ]
        for problem, _ in rows:
            a, op, b = problem.split()
            body.append(f"  \\item $\\dfrac{{{a.split('/')[0]}}}{{{a.split('/')[1]}}} {op} "
                        f"\\dfrac{{{b.split('/')[0]}}}{{{b.split('/')[1]}}} = $ \\rule{{2.5cm}}{{0.4pt}}")  # fmt: skip
        body += [
            "\\end{enumerate}",
            "",
            "\\vspace{1em}",
            "\\noindent\\begin{tikzpicture}",
            "  \\draw[fill=teal!15] (0,0) rectangle (8,0.8);",
            "  \\foreach \\x in {1,...,7} \\draw (\\x,0) -- (\\x,0.8);",
            "  \\node[right] at (8.2,0.4) {A strip of eighths};",
            "\\end{tikzpicture}",
        ]
    else:
        align = "l" + "r" * (len(col) - 1) if figure != "schedule table" else "llccr"
        body += [f"\\section*{{{_tex(s.title)}}}"]
        if figure == "one-page report":
            body += [
                "\\noindent\\textbf{Prepared by:} Vessel Catchment Trust \\hfill \\textbf{Sampling period:} "
                "January--December 2023",
                "",
                "\\section{Summary}",
                "Lake Vessel was sampled monthly at three points along its northern shore. Every parameter below "
                "stayed within its regulatory limit, and dissolved oxygen stayed above its minimum all year. "
                "Phosphorus came closest to its limit, which matches the algal bloom seen in late August. The "
                "figures are annual means across all sampling points.",
                "",
                "\\section{Background}",
                "Lake Vessel supplies drinking water to about 14,000 people in the valley and is used for "
                "swimming and angling from May to September. Run-off from the farmland on the western slopes "
                "carries nutrients into the lake after heavy rain, and the Trust has monitored the lake since "
                "2009 to see whether the buffer strips planted along the inflow streams are working. This report "
                "gives the annual means for 2023 and compares them with the regulatory limits that apply to the "
                "lake as a drinking-water source and a designated bathing water.",
                "",
                "\\section{Results}",
            ]
        body += [
            "\\begin{table}[h]",
            "\\centering",
            "\\rowcolors{2}{rowgrey}{white}",
            f"\\begin{{tabular}}{{{align}}}",
            "\\toprule",
            " & ".join(f"\\textbf{{{_tex(c)}}}" for c in col) + " \\\\",
            "\\midrule",
        ]
        for row in rows:
            money = figure in ("price list", "invoice")
            cells = [f"{v:,.2f}" if isinstance(v, float) and money else _tex(v) for v in row]
            body.append(" & ".join(cells) + " \\\\")
        body += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
        if figure == "one-page report":
            body += [
                "",
                "\\section{Notes on method}",
                "\\begin{itemize}[leftmargin=1.5em]",
                "  \\item Samples were taken 0.5 m below the surface between 08:00 and 10:00.",
                "  \\item E.\\ coli counts use membrane filtration; the limit is the bathing-water standard.",
                "  \\item Dissolved oxygen has a \\emph{minimum}, not a maximum: higher is better.",
                "\\end{itemize}",
                "",
                "\\section{Recommendations}",
                "Keep monthly sampling, add a sampling point near the inflow stream in summer, and publish the "
                "results on the Trust's noticeboard within two weeks of each sample.",
            ]
        elif figure in ("price list", "comparison table", "table"):
            body += ["", "\\noindent\\small Prices include VAT. Weights are the manufacturer's packed weights."]
    return "\n".join(pre + body + ["\\end{document}"]) + "\n"


HTML_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
  * {{ box-sizing: border-box; }}
  body {{ margin: 0; font-family: "Liberation Sans", "DejaVu Sans", Arial, sans-serif; color: #1d2433;
         background: {page}; line-height: 1.5; }}
  .sheet {{ width: 880px; margin: 40px auto; background: #ffffff; padding: 48px 56px;
           box-shadow: 0 6px 24px rgba(20, 30, 60, 0.12); border-radius: 10px; }}
  h1 {{ font-size: 30px; margin: 0 0 6px; color: {accent}; letter-spacing: 0.3px; }}
  h2 {{ font-size: 19px; margin: 28px 0 10px; color: {accent}; border-bottom: 2px solid {accent};
       padding-bottom: 4px; }}
  .meta {{ color: #5b6478; font-size: 15px; margin-bottom: 18px; }}
  table {{ width: 100%; border-collapse: collapse; margin-top: 12px; font-size: 16px; }}
  th {{ background: {accent}; color: #ffffff; text-align: left; padding: 11px 14px; font-weight: 600; }}
  td {{ padding: 10px 14px; border-bottom: 1px solid #e3e7ef; }}
  tr:nth-child(even) td {{ background: #f6f8fb; }}
  td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
  .total td {{ font-weight: 700; border-top: 2px solid {accent}; background: #eef3fa; }}
  .note {{ font-size: 14px; color: #5b6478; margin-top: 22px; }}
  .badge {{ display: inline-block; padding: 3px 10px; border-radius: 12px; background: #eef3fa; color: {accent};
           font-size: 13px; font-weight: 600; }}
  footer {{ margin-top: 34px; padding-top: 14px; border-top: 1px solid #e3e7ef; font-size: 13px; color: #7a8396; }}
  .masthead {{ display: flex; justify-content: space-between; align-items: flex-start; margin-bottom: 26px; }}
  .brand {{ display: flex; align-items: center; gap: 14px; }}
  .logo {{ width: 54px; height: 54px; border-radius: 12px; background: {accent}; color: #fff; font-size: 24px;
          font-weight: 700; display: flex; align-items: center; justify-content: center; }}
  .brand-name {{ font-size: 20px; font-weight: 700; color: #1d2433; }}
  .brand-sub {{ font-size: 13px; color: #7a8396; }}
  .stamp {{ text-align: right; font-size: 14px; color: #5b6478; }}
  .stamp strong {{ display: block; font-size: 22px; color: {accent}; letter-spacing: 1px; }}
  .columns {{ display: grid; grid-template-columns: 1fr 1fr; gap: 24px; margin: 18px 0 6px; }}
  .card {{ background: #f6f8fb; border: 1px solid #e3e7ef; border-radius: 8px; padding: 14px 18px; font-size: 14px; }}
  .card h3 {{ margin: 0 0 6px; font-size: 12px; text-transform: uppercase; letter-spacing: 1.2px; color: #7a8396; }}
  ul.terms {{ margin: 8px 0 0 18px; padding: 0; font-size: 14px; color: #3d4556; }}
  ul.terms li {{ margin: 4px 0; }}
  .pill {{ display: inline-block; margin: 0 6px 6px 0; padding: 4px 12px; border-radius: 999px;
          border: 1px solid {accent}; color: {accent}; font-size: 13px; }}
  @media print {{ .sheet {{ box-shadow: none; margin: 0; }} }}
</style>
</head>
<body>
<div class="sheet">
"""


ORGS = {
    "invoice": "Greenway Landscapes AS",
    "receipt": "Greenway Landscapes AS",
    "restaurant menu": "Caf\u00e9 Lindqvist",
    "price list": "Caf\u00e9 Lindqvist",
    "timetable": "Harbourside Community Pool",
    "schedule table": "Harbourside Community Pool",
}
MASTHEAD = """<div class="masthead">
  <div class="brand"><div class="logo">{initials}</div>
    <div><div class="brand-name">{org}</div><div class="brand-sub">Storgata 14 &middot; 5003 Bergen</div></div>
  </div>
  <div class="stamp"><strong>{figure}</strong>Reference kept on file</div>
</div>"""
TERMS = {
    "invoice": """<div class="columns">
  <div class="card"><h3>Bank details</h3>Account 1503.44.28710<br>IBAN NO93 1503 4428 710<br>BIC DNBANOKKXXX</div>
  <div class="card"><h3>Work carried out</h3>Site cleared, turf laid on the south lawn, gravel path edged with
  steel, beech hedge planted along the road side. Waste removed from site.</div>
</div>
<h2>Terms</h2>
<ul class="terms">
  <li>Payment within 14 days of the invoice date; interest at the statutory rate after that.</li>
  <li>Plants carry a one-year guarantee when watered as described in the care sheet.</li>
  <li>Turf must not be walked on for three weeks after laying.</li>
  <li>Queries about this invoice: accounts@greenway.example, quoting the invoice number.</li>
</ul>""",
    "restaurant menu": """<h2>Good to know</h2>
<ul class="terms">
  <li>All soups and risottos can be made vegan; ask your server.</li>
  <li>Bread comes from Rye Lane Bakery, baked each morning.</li>
  <li>Groups of eight or more: please book ahead, we add a 10% service charge.</li>
</ul>
<div><span class="pill">Vegetarian options</span><span class="pill">Gluten-free on request</span>
<span class="pill">Local produce</span></div>""",
    "default": """<h2>About these figures</h2>
<ul class="terms">
  <li>Figures come from the front-desk system and are checked by the duty manager each week.</li>
  <li>Corrections are published in the following month's edition.</li>
  <li>Contact the office if you need this document in large print.</li>
</ul>""",
}
TERMS["receipt"] = TERMS["invoice"]
TERMS["price list"] = TERMS["restaurant menu"]


def _initials(title: str) -> str:
    return "".join(w[0] for w in title.split()[:2]).upper()


def _money(value: object) -> str:
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value)


def html_code(s: Scenario, figure: str, long: bool = False) -> str:
    if figure == "event poster":
        return _poster(s)
    if figure in ("form", "newsletter"):
        return _document(s, figure, long)
    accent = {"invoice": "#1f4e79", "receipt": "#2d6a4f", "restaurant menu": "#7f3b08"}.get(figure, "#24527a")
    parts = [HTML_HEAD.format(title=s.title, page="#eef1f6", accent=accent)]
    parts.append(MASTHEAD.format(initials=_initials(s.title), org=ORGS.get(figure, "Millvale Council"), figure=figure))
    parts.append(f"<h1>{s.title}</h1>")
    if figure in ("invoice", "receipt"):
        parts.append(
            '<div class="meta">Greenway Landscapes AS &middot; Storgata 14, 5003 Bergen &middot; Org. no. 998 114 302'
            "<br>Billed to: Ingrid Solberg, Fjellveien 7, 5019 Bergen &middot; Issued 30 April 2024 &middot; "
            "Due 14 May 2024</div>"
        )
    elif figure in ("restaurant menu", "price list"):
        parts.append('<div class="meta">Served daily 11:30&ndash;21:00 &middot; Ask us about allergens</div>')
    else:
        parts.append('<div class="meta">Figures as recorded by staff; updated at the end of each period.</div>')
    parts.append("<table>")
    numeric = [isinstance(v, int | float) for v in s.rows[0]]
    head = "".join(f'<th class="{"num" if n else ""}">{c}</th>' for c, n in zip(s.columns, numeric, strict=True))
    parts.append(f"<tr>{head}</tr>")
    for row in s.rows:
        cells = "".join(f'<td class="{"num" if n else ""}">{_money(v)}</td>' for v, n in zip(row, numeric, strict=True))
        parts.append(f"<tr>{cells}</tr>")
    if figure in ("invoice", "receipt"):
        subtotal = sum(r[-1] for r in s.rows)
        vat = round(subtotal * 0.25, 2)
        parts += [
            f'<tr class="total"><td colspan="3">Subtotal</td><td class="num">{subtotal:,.2f}</td></tr>',
            f'<tr><td colspan="3">VAT (25%)</td><td class="num">{vat:,.2f}</td></tr>',
            f'<tr class="total"><td colspan="3">Total due (EUR)</td><td class="num">{subtotal + vat:,.2f}</td></tr>',
        ]
    parts.append("</table>")
    if figure in ("invoice", "receipt"):
        parts.append(
            "<h2>Payment</h2><p>Please pay by bank transfer to account 1503.44.28710 within 14 days, quoting the "
            "invoice number. Late payments are charged interest at the statutory rate.</p>"
            '<p class="note">Thank you for choosing Greenway Landscapes. All plants carry a one-year guarantee '
            "when watered as instructed in the care sheet we left with you.</p>"
        )
    elif figure == "timetable" or figure == "schedule table":
        parts.append(
            '<p class="note">Lane numbers show how many of the 8 lanes are open for the session. The pool closes '
            '15 minutes after the last session ends. <span class="badge">Members swim free</span></p>'
        )
    parts.append(TERMS.get(figure, TERMS["default"]))
    if long and figure in ("invoice", "receipt"):  # a model that itemises every hour of work: far too long
        log = "".join(
            f"<tr><td>2024-04-{day:02d}</td><td>{hour:02d}:00</td><td>Crew of {crew} on site, {task}</td></tr>\n"
            for day in range(2, 27)
            for hour, crew, task in ((8, 2, "clearing and levelling"), (10, 3, "laying turf and edging"),
                                     (13, 2, "hedge planting"), (15, 1, "watering and site tidy"))
        )  # fmt: skip
        head = "<tr><th>Date</th><th>Time</th><th>Work</th></tr>"
        parts.append(f"<h2>Itemised work log</h2><table>{head}\n{log}</table>")
    parts.append("<footer>Printed from the office system. Questions? Call +47 55 12 34 56.</footer>")
    parts.append("</div>\n</body>\n</html>")
    return "\n".join(parts) + "\n"


def _poster(s: Scenario) -> str:
    d = s.document
    items = "\n".join(
        f'    <li><span class="time">{i["time"]}</span><span class="what">{i["name"]}</span>'
        f'<span class="detail">{i["value"]}</span></li>'
        for i in d["items"]
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{d["title"]}</title>
<style>
  html, body {{ margin: 0; height: 100%; }}
  body {{ width: 1024px; min-height: 1280px; font-family: "DejaVu Serif", Georgia, serif; color: #fff8e7;
         background: linear-gradient(160deg, #0b1d3a 0%, #23306b 45%, #7a3e6b 80%, #e07a3f 100%); }}
  .wrap {{ padding: 90px 80px; }}
  .kicker {{ letter-spacing: 6px; text-transform: uppercase; font-size: 20px; color: #ffd27a; }}
  h1 {{ font-size: 84px; line-height: 1.02; margin: 18px 0 24px; }}
  .when {{ font-size: 30px; margin-bottom: 50px; }}
  .moon {{ position: absolute; top: 70px; right: 90px; width: 150px; height: 150px; border-radius: 50%;
          background: radial-gradient(circle at 35% 35%, #fff6d5, #f3c969); box-shadow: 0 0 80px #f3c96988; }}
  ul {{ list-style: none; padding: 0; margin: 0; }}
  li {{ display: grid; grid-template-columns: 120px 1fr; column-gap: 24px; padding: 18px 0;
       border-bottom: 1px solid rgba(255, 248, 231, 0.25); font-size: 26px; }}
  .time {{ font-weight: bold; color: #ffd27a; grid-row: span 2; }}
  .detail {{ font-size: 20px; opacity: 0.85; }}
  .foot {{ margin-top: 60px; font-size: 22px; }}
  .lanterns span {{ display: inline-block; width: 36px; height: 52px; margin-right: 18px; border-radius: 40%;
                   background: #ffb347; box-shadow: 0 0 30px #ffb347; }}
</style>
</head>
<body>
<div class="moon"></div>
<div class="wrap">
  <div class="kicker">Millvale Arts Council presents</div>
  <h1>{d["title"]}</h1>
  <div class="when">Friday {d["date"]} &middot; {d["place"]}</div>
  <ul>
{items}
  </ul>
  <div class="foot">Bring a torch for the way home. Dogs on leads are welcome.</div>
  <div class="lanterns" style="margin-top: 40px"><span></span><span></span><span></span><span></span></div>
</div>
</body>
</html>
"""


NEWS_FILLER = (
    "Members are reminded that the boathouse is locked at 21:00 on weekdays, and that the last crew out must "
    "log their return in the book by the door. Coaches will post the weekly crew lists on the noticeboard every "
    "Sunday evening, and anyone who cannot make a session should tell their coach as early as possible so that "
    "a substitute can be found. "
)


def _document(s: Scenario, figure: str, long: bool) -> str:
    d = s.document
    accent = "#0f4c5c" if figure == "newsletter" else "#5a189a"
    page = "#13161c" if figure == "newsletter" else "#f3eefa"
    parts = [HTML_HEAD.format(title=d["title"], page=page, accent=accent)]
    parts.append(f"<h1>{d['title']}</h1>")
    parts.append(f'<div class="meta">{d["place"]} &middot; {d["date"]}</div>')
    if figure == "form":
        parts.append("<p>Thank you for offering to help! Fill in this form and hand it in at the front desk.</p>")
        for item in d["items"]:
            parts.append(
                f'<div style="margin: 18px 0"><div style="font-weight:600">{item["name"]}</div>'
                f'<div style="border:1px solid #b8a9d9; border-radius:6px; height:40px; margin-top:6px; '
                f'padding:8px; color:#8a7fa8">{item["value"]}</div></div>'
            )
        parts.append('<p class="note">We will email your shift confirmation within a week.</p>')
    else:
        for item in d["items"]:
            text = item["value"]
            text += " " + NEWS_FILLER * (3 if long else 1)
            parts.append(f"<h2>{item['name']}</h2><p>{text}</p>")
        parts.append('<p class="note">Send news for the winter issue to the secretary by 15 December.</p>')
    parts.append("<footer>Harbourside Rowing Club &middot; Est. 1921</footer>" if figure == "newsletter" else "")
    parts.append("</div>\n</body>\n</html>")
    return "\n".join(p for p in parts if p) + "\n"


def mermaid_code(s: Scenario, figure: str) -> str:
    if figure == "pie chart":
        lines = [f"pie showData title {s.title}"] + [f'    "{r[0]}" : {r[1]}' for r in s.rows]
    elif figure == "gantt chart":
        lines = ["gantt", f"    title {s.title}", "    dateFormat YYYY-MM-DD", "    axisFormat %d %b"]
        lines.append("    section Works")
        lines += [f"    {task} :t{i}, {start}, {end}" for i, (task, start, end) in enumerate(s.rows)]
    elif figure == "sequence diagram":
        lines = ["sequenceDiagram", f"    title {s.title}", "    autonumber"]
        actors = list(dict.fromkeys(x for r in s.rows for x in r[:2]))
        lines += [f"    participant {a.replace(' ', '_')} as {a}" for a in actors]
        lines += [f"    {a.replace(' ', '_')}->>{b.replace(' ', '_')}: {m}" for a, b, m in s.rows]
    elif figure == "mind map":
        children: dict[str, list[str]] = {}
        for parent, child in s.rows:
            children.setdefault(parent, []).append(child)
        root = s.rows[0][0]
        lines = ["mindmap", f"  root(({root}))"]
        for child in children[root]:
            lines.append(f"    {child}")
            lines += [f"      {grandchild}" for grandchild in children.get(child, [])]
    elif figure == "class diagram":
        lines = ["---", f"title: {s.title}", "---", "classDiagram", "    direction LR"]
        for a, b, rel in s.rows:
            lines.append(f"    {a} --> {b} : {rel}")
        lines += ["    class Book {", "        +String isbn", "        +String title", "    }"]
        lines += ["    class Member {", "        +int memberId", "        +borrow(Book)", "    }"]
    else:  # flowcharts of every kind
        ids = {name: f"n{i}" for i, name in enumerate(dict.fromkeys(x for r in s.rows for x in r[:2] if x))}
        lines = ["---", f"title: {s.title}", "---", "flowchart TD"]
        for name, node in ids.items():
            lines.append(f"    {node}{{{{{name}}}}}" if name.endswith("?") else f'    {node}["{name}"]')
        for row in s.rows:
            if row[0] and row[1]:
                label = f"|{row[2]}|" if len(row) > 2 else ""
                lines.append(f"    {ids[row[0]]} -->{label} {ids[row[1]]}")
        lines += ["    classDef start fill:#d8f3dc,stroke:#2d6a4f", f"    class {ids[s.rows[0][0]]} start"]
    return "\n".join(lines) + "\n"


def graphviz_code(s: Scenario, figure: str) -> str:
    rankdir = "TB" if figure in ("organisation chart", "family tree", "decision tree") else "LR"
    lines = [
        "digraph G {",
        f'    graph [label="{s.title}", labelloc=t, fontsize=20, fontname="Helvetica-Bold", rankdir={rankdir}, '
        "pad=0.4, nodesep=0.5, ranksep=0.6];",
        '    node [shape=box, style="rounded,filled", fillcolor="#e8f1fb", color="#24527a", fontname="Helvetica", '
        "fontsize=12];",
        '    edge [color="#5b6478", fontname="Helvetica", fontsize=10];',
    ]
    if figure == "state machine":
        lines.append('    "Idle green" [shape=doublecircle, fillcolor="#d8f3dc"];')
        lines += [f'    "{a}" -> "{c}" [label="{b}"];' for a, b, c in s.rows]
    elif figure == "family tree":
        people = dict.fromkeys(x for r in s.rows for x in r)
        lines += [f'    "{p}" [shape=ellipse, fillcolor="#fdf0d5"];' for p in people]
        lines += [f'    "{a}" -> "{b}";' for a, b in s.rows]
    else:
        for row in s.rows:
            if row[0] and row[1]:
                a, b = (row[1], row[0]) if figure == "organisation chart" else (row[0], row[1])
                label = f' [label="{row[2]}"]' if len(row) > 2 else ""
                lines.append(f'    "{a}" -> "{b}"{label};')
        if figure == "decision tree" or any(str(r[1]).endswith("?") for r in s.rows):
            lines += [f'    "{r[1]}" [shape=diamond, fillcolor="#fff3c4"];' for r in s.rows if str(r[1]).endswith("?")]
    lines.append("}")
    return "\n".join(lines) + "\n"


WRITERS = {
    "matplotlib": matplotlib_code,
    "plotly": plotly_code,
    "latex": latex_code,
    "html": html_code,
    "mermaid": mermaid_code,
    "graphviz": graphviz_code,
}


def code_for(s: Scenario, renderer: str, figure: str, long: bool = False) -> str:
    if renderer == "vegalite":
        return json.dumps(vegalite_spec(s, figure), indent=2, ensure_ascii=False) + "\n"
    if renderer == "html":
        return html_code(s, figure, long)
    return WRITERS[renderer](s, figure)
