"""One known-good program per renderer: used by the tests, the benchmark, and as smoke checks."""

GOOD: dict[str, str] = {}

GOOD["matplotlib"] = """\
import matplotlib.pyplot as plt

regions = ["North", "South", "East", "West", "Central"]
sales = [42, 35, 51, 28, 46]
fig, ax = plt.subplots(figsize=(7, 4.5))
bars = ax.bar(regions, sales, color=["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3"])
ax.bar_label(bars)
ax.set_title("Quarterly sales by region (k$)")
ax.set_ylabel("Sales")
ax.set_facecolor("#f4f4f8")
fig.savefig("output.png", dpi=100, bbox_inches="tight")
"""

GOOD["plotly"] = """\
import plotly.graph_objects as go

years = [2018, 2019, 2020, 2021, 2022, 2023]
fig = go.Figure()
fig.add_trace(go.Scatter(x=years, y=[12, 15, 11, 18, 21, 24], mode="lines+markers", name="Solar"))
fig.add_trace(go.Scatter(x=years, y=[30, 29, 27, 26, 24, 22], mode="lines+markers", name="Coal"))
fig.update_layout(title="Electricity generation (TWh)", width=760, height=480, xaxis_title="Year",
                  yaxis_title="TWh")
fig.write_image("output.png")
"""

GOOD["latex"] = r"""\documentclass{article}
\usepackage{booktabs}
\usepackage[table]{xcolor}
\begin{document}
\begin{table}[h]
\centering
\rowcolors{2}{gray!15}{white}
\begin{tabular}{lrrr}
\toprule
\textbf{Product} & \textbf{Units} & \textbf{Price} & \textbf{Revenue} \\
\midrule
Notebook & 120 & 2.50 & 300.00 \\
Pencil set & 80 & 4.00 & 320.00 \\
Backpack & 35 & 29.00 & 1015.00 \\
Calculator & 22 & 18.50 & 407.00 \\
\bottomrule
\end{tabular}
\caption{Back-to-school sales, September}
\end{table}
\end{document}
"""

GOOD["html"] = """\
<!DOCTYPE html>
<html><head><style>
  body { font-family: "DejaVu Sans", sans-serif; margin: 0; background: #eef1f6; }
  .sheet { margin: 32px; padding: 32px; background: white; border-top: 12px solid #1f4e79; }
  h1 { color: #1f4e79; margin: 0 0 8px; }
  table { width: 100%; border-collapse: collapse; margin-top: 24px; }
  th { background: #1f4e79; color: white; padding: 10px; text-align: left; }
  td { padding: 10px; border-bottom: 1px solid #ccd; }
  tr:nth-child(even) td { background: #f3f6fb; }
  .total { text-align: right; font-size: 20px; margin-top: 16px; font-weight: bold; }
</style></head>
<body><div class="sheet">
  <h1>INVOICE #2024-0117</h1>
  <p>Northwind Supplies Ltd. &middot; 12 Harbour Road, Leeds<br>Billed to: Blue Fern Cafe</p>
  <table>
    <tr><th>Item</th><th>Qty</th><th>Unit price</th><th>Amount</th></tr>
    <tr><td>Espresso beans, 1 kg</td><td>6</td><td>$18.00</td><td>$108.00</td></tr>
    <tr><td>Paper cups (box of 500)</td><td>4</td><td>$22.50</td><td>$90.00</td></tr>
    <tr><td>Oat milk, 12-pack</td><td>3</td><td>$15.00</td><td>$45.00</td></tr>
    <tr><td>Cleaning tablets</td><td>2</td><td>$9.75</td><td>$19.50</td></tr>
  </table>
  <div class="total">Total due: $262.50</div>
</div></body></html>
"""

GOOD["vegalite"] = """\
{
  "width": 420, "height": 300,
  "title": "Height vs weight",
  "data": {"values": [
    {"h": 150, "w": 52, "g": "A"}, {"h": 160, "w": 58, "g": "A"}, {"h": 165, "w": 63, "g": "B"},
    {"h": 170, "w": 70, "g": "B"}, {"h": 175, "w": 72, "g": "A"}, {"h": 180, "w": 80, "g": "B"},
    {"h": 185, "w": 85, "g": "A"}, {"h": 190, "w": 91, "g": "B"}, {"h": 158, "w": 61, "g": "B"}
  ]},
  "mark": {"type": "point", "filled": true, "size": 90},
  "encoding": {
    "x": {"field": "h", "type": "quantitative", "title": "Height (cm)", "scale": {"zero": false}},
    "y": {"field": "w", "type": "quantitative", "title": "Weight (kg)", "scale": {"zero": false}},
    "color": {"field": "g", "type": "nominal"}
  }
}
"""

GOOD["mermaid"] = """\
flowchart TD
    A[Order received] --> B{In stock?}
    B -- Yes --> C[Pick and pack]
    B -- No --> D[Back-order from supplier]
    D --> C
    C --> E[Ship]
    E --> F[Send invoice]
"""

GOOD["graphviz"] = """\
digraph pipeline {
    rankdir=TB;
    node [shape=box, style="rounded,filled", fillcolor="#dbe9f6", fontname="DejaVu Sans"];
    ingest [label="Ingest"];
    clean [label="Clean"];
    dedup [label="Deduplicate"];
    split [label="Train/val split"];
    train [label="Train model", fillcolor="#fde2c8"];
    eval [label="Evaluate", fillcolor="#d5f0d5"];
    ingest -> clean -> dedup -> split;
    split -> train [label="train"];
    split -> eval [label="val"];
    train -> eval;
}
"""
