"""Replies as strong instruction-tuned models write them: a chatty preamble, the content fenced, a sentence
after; markdown tables and thousands separators; numbered or bold QA with units, computed totals, "Yes, it
is higher." and the odd wrong answer (a misread value, the figure's size) that the QA filters must catch."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

from tests.generators.docs.competent.code import code_for
from tests.generators.docs.competent.scenarios import FIGURE_FAMILY, Scenario


def _choice(key: str, options: list) -> object:
    return options[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(options)]


TOPIC_WRAPPERS = [
    'Sure! Here\'s a title: "{t}"',
    "**{t}**",
    '"{t}."',
    "Title: {t}",
    "\u201c{t}\u201d",
    "Here is a title for your {fig}:\n\n**{t}**\n\nIt is short and tells readers exactly what they are looking at.",
    "{t}",
    "Certainly! How about this one:\n\n\u201c{t}\u201d",
]


def topic_reply(s: Scenario, figure: str, persona: str) -> str:
    return str(_choice(persona + figure, TOPIC_WRAPPERS)).format(t=s.title, fig=figure)


def _csv(s: Scenario) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(s.columns)
    for row in s.rows:
        writer.writerow([f"{v:,}" if isinstance(v, int) and abs(v) >= 1000 else v for v in row])
    return out.getvalue()


def _markdown(s: Scenario) -> str:
    lines = ["| " + " | ".join(s.columns) + " |", "|" + "---|" * len(s.columns)]
    for row in s.rows:
        lines.append("| " + " | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in row) + " |")
    return "\n".join(lines)


def data_reply(s: Scenario, figure: str, structured: bool) -> str:
    if s.document:
        body = json.dumps(s.document, indent=2, ensure_ascii=False)
        return body if structured else f"Here's the content for the {figure}:\n\n```json\n{body}\n```\n"
    if structured:
        return json.dumps({"columns": list(s.columns), "rows": [list(r) for r in s.rows]}, ensure_ascii=False)
    style = _choice(s.name + figure, ["fenced", "markdown", "bare"])
    if style == "fenced":
        return (
            f"Here's some realistic data for your {figure}:\n\n```csv\n{_csv(s)}```\n\n"
            "The figures are illustrative but sit in a plausible range."
        )
    if style == "markdown":
        return f"Sure! Here is the data:\n\n{_markdown(s)}\n\nLet me know if you would like more rows."
    return _csv(s)


CODE_LANG = {"matplotlib": "python", "plotly": "python", "latex": "latex", "html": "html", "vegalite": "json",
             "mermaid": "mermaid", "graphviz": "dot"}  # fmt: skip


def code_reply(s: Scenario, renderer: str, figure: str, structured: bool, long: bool = False) -> str:
    code = code_for(s, renderer, figure, long)
    if renderer == "vegalite" and structured:
        return code  # constrained to the JSON schema: nothing around it
    before = _choice(
        s.name + renderer,
        [
            f"Here's a complete {renderer} version of the {figure}:",
            f"Below is a self-contained program that draws the {figure} from your data.",
            "Sure! This should render cleanly:",
        ],
    )
    after = _choice(
        figure + renderer,
        [
            "\n\nIt uses only the data you gave, with clear labels and a title.",
            "\n\nLet me know if you'd like different colours or a different layout.",
            "",
        ],
    )
    return f"{before}\n\n```{CODE_LANG[renderer]}\n{code.rstrip()}\n```{after}"


# --- QA ------------------------------------------------------------------------------------------------------


def _unit(header: str) -> str:
    match = re.search(r"\(([^)]+)\)", header)
    return match.group(1) if match else ""


def _bare(header: str) -> str:
    return re.sub(r"\s*\([^)]*\)", "", header).strip()


def _fmt(value: float, unit: str = "") -> str:
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    if unit == "%":
        return f"{text}%"
    if unit in ("EUR", "$k", "USD"):
        return f"{text} {unit}" if unit != "$k" else f"${text}k"
    return f"{text} {unit}".strip()


def table_pairs(s: Scenario) -> list[tuple[str, str]]:
    labels = [str(r[0]) for r in s.rows]
    numeric = [i for i in range(1, len(s.columns)) if all(isinstance(r[i], int | float) for r in s.rows)]
    pairs: list[tuple[str, str]] = []
    noun = _bare(s.columns[0]).lower()
    if numeric:
        col = numeric[0]
        name, unit = _bare(s.columns[col]).lower(), _unit(s.columns[col])
        values = [r[col] for r in s.rows]
        hi, lo = max(range(len(values)), key=values.__getitem__), min(range(len(values)), key=values.__getitem__)
        a, b = (0, 1) if values[0] != values[1] else (0, 2)
        pairs += [
            (f"What is the {name} of {labels[1]}?", _fmt(values[1], unit)),
            (f"Which {noun} has the highest {name}?", labels[hi]),
            (f"Which {noun} has the lowest {name}?", labels[lo]),
            (f"What is the total {name} across all {noun} entries?", _fmt(sum(values), unit)),
            (f"How many {noun} entries are listed?", str(len(values))),
            (
                f"What is the difference in {name} between {labels[hi]} and {labels[lo]}?",
                _fmt(values[hi] - values[lo], unit),
            ),
            (f"What is the average {name}, to one decimal place?", f"{sum(values) / len(values):.1f}"),
        ]
        options = [labels[i] for i in sorted({hi, lo, a, b} | set(range(min(4, len(labels)))))][:4]
        if labels[hi] not in options:
            options[-1] = labels[hi]
        letters = "ABCD"
        listed = " ".join(f"({letters[i]}) {o}" for i, o in enumerate(options))
        pairs.append(
            (f"Which {noun} has the highest {name}?\n{listed}", f"({letters[options.index(labels[hi])]}) {labels[hi]}")
        )
        higher = values[a] > values[b]
        pairs.append(
            (
                f"Is the {name} of {labels[a]} higher than that of {labels[b]}?",
                "Yes, it is higher." if higher else "No, it is lower.",
            )
        )
        pairs.append(
            (
                "Summarise the figure in one sentence.",
                f"{labels[hi]} has the highest {name} at {_fmt(values[hi], unit)}, while {labels[lo]} has the "
                f"lowest at {_fmt(values[lo], unit)}.",
            )
        )
        # A typical slip of a strong model: a value with a digit lost (or one off). The filters must drop it.
        value = values[hi]
        wrong = str(value)[:-1] if isinstance(value, int) and value >= 10 else _fmt(value + 1)
        pairs.append((f"What is the {name} of {labels[hi]}, as shown?", f"{wrong} {unit}".strip()))
    else:
        pairs += [
            (f"What is the first {noun} listed?", labels[0]),
            (f"What comes right after {labels[0]} in the {_bare(s.columns[1]).lower()} column?", str(s.rows[0][1])),
            (f"How many rows does the {noun} table have?", str(len(labels))),
            ("Summarise the figure in one sentence.", f"It lists {len(labels)} entries, from {labels[0]} to "
                                                      f"{labels[-1]}."),
        ]  # fmt: skip
    pairs.append(("Who designed this figure?", "unanswerable"))
    return pairs


def link_pairs(s: Scenario, figure: str) -> list[tuple[str, str]]:
    rows = [r for r in s.rows if r[0] and r[1]]
    first, second = rows[0][0], rows[0][1]
    nodes = list(dict.fromkeys(x for r in rows for x in r[:2]))
    pairs = [
        (f"What does {first} lead to first?", str(second)),
        (f"How many rows of links does the {figure} have?", str(len(rows))),
        (f"Is {rows[-1][1]} part of the {figure}?", "Yes"),
        (
            f"Which of these appears in the {figure}?\n(A) {nodes[1]} (B) Quality audit (C) Night shift (D) Archive",
            f"(A) {nodes[1]}",
        ),
        ("Summarise the figure in one sentence.", f"The {figure} connects {nodes[0]} through to {nodes[-1]}."),
        ("What colour scheme did the author pick, and why?", "unanswerable"),
    ]
    if len(s.columns) > 2:
        pairs.append((f"What is the {_bare(s.columns[2]).lower()} between {first} and {second}?", str(rows[0][2])))
    return pairs


def document_pairs(s: Scenario) -> list[tuple[str, str]]:
    d = s.document
    items = d["items"]
    pairs = [
        ("What is the title of the document?", d["title"]),
        ("On what date is it?", d["date"]),
        ("Where does it take place?", d["place"]),
        ("What is listed first?", items[0]["name"]),
        ("How many items are listed?", str(len(items))),
        ("Summarise the figure in one sentence.", f"{d['title']} on {d['date']} at {d['place']}."),
        ("How many people attended last year?", "unanswerable"),
    ]
    if "time" in items[0]:
        pairs.append((f"What time is the {items[1]['name'].lower()}?", items[1]["time"]))
    return pairs


def qa_pairs(s: Scenario, figure: str) -> list[tuple[str, str]]:
    family = FIGURE_FAMILY[figure]
    if s.document:
        return document_pairs(s)
    if family in ("returns", "org", "family", "traffic", "deps", "mindmap", "classes", "sequence"):
        return link_pairs(s, figure)
    return table_pairs(s)


QA_STYLES = ["plain", "bold", "question"]


def qa_reply(s: Scenario, figure: str, structured: bool, verbose: bool = False) -> str:
    pairs = qa_pairs(s, figure)
    if structured:
        return json.dumps({"pairs": [{"question": q, "answer": a} for q, a in pairs]}, ensure_ascii=False)
    style = _choice(s.name + figure + "qa", QA_STYLES)
    lines = ["Here are questions a reader could answer from the figure:", ""]
    for i, (q, a) in enumerate(pairs, 1):
        if style == "plain":
            lines += [f"Q: {q}", f"A: {a}", ""]
        elif style == "bold":
            lines += [f"{i}. **Q:** {q}", f"   **A:** {a}", ""]
        else:
            lines += [f"**Question {i}:** {q}", f"**Answer:** {a}", ""]
        if verbose:  # a model that explains every answer at length, and runs out of tokens
            lines += ["(Explanation: " + "this follows directly from the values in the table. " * 12 + ")", ""]
    return "\n".join(lines)
