"""Turning model text into what each stage needs: a topic line, validated CSV/JSON data, renderer code and QA
pairs. Each parser returns the clean value or raises ParseError with a reason that goes in the dead letter."""

import csv
import io
import json
import re
from collections.abc import Sequence

FENCE = re.compile(r"```[A-Za-z0-9_+-]*[ \t]*\n(.*?)(?:```|$)", re.DOTALL)
MERMAID_STARTS = (
    "flowchart",
    "graph",
    "sequenceDiagram",
    "classDiagram",
    "stateDiagram",
    "erDiagram",
    "gantt",
    "pie",
    "mindmap",
    "journey",
    "timeline",
    "quadrantChart",
    "gitGraph",
)
MAX_DATA_CHARS = 4000
MAX_DATA_ROWS = 12  # the prompt asks for 4 to 8
NUMBER = re.compile(r"[-+]?[\d.,]+%?")
# Values of the prompts' format examples: a reply that reuses them copied the example instead of inventing data.
EXAMPLE_VALUES = ("<a name>", "<a number>", "<a title>")


class ParseError(ValueError):
    pass


def unfence(text: str) -> str:
    """The first ``` fenced block's content, or the whole text when there is none."""
    match = FENCE.search(text)
    return (match.group(1) if match else text).strip()


def copies_example(text: str) -> bool:
    flat = re.sub(r"\s+", "", text.lower())
    return any(re.sub(r"\s+", "", value) in flat for value in EXAMPLE_VALUES)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def shot_markers(shot_data: str) -> list[str]:
    """The distinctive values of a shown example's data: its CSV cells below the header, or its JSON strings,
    that hold a letter and at least 4 characters (plain numbers like 14 also occur in honest data)."""
    try:
        value = json.loads(shot_data)
        cells = _json_strings(value)
    except ValueError:
        cells = [c for row in list(csv.reader(shot_data.strip().splitlines()))[1:] for c in row]
    return sorted({_flat(c) for c in cells if len(c.strip()) >= 4 and re.search(r"[A-Za-z]", c)})


def _json_strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _json_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return [value] if isinstance(value, str) else []


def _has_marker(text: str, markers: list[str]) -> bool:
    flat = _flat(text)
    return any(re.search(rf"(?<![a-z0-9]){re.escape(m)}(?![a-z0-9])", flat) for m in markers)


def copies_shot_data(data: str, shot_data: str) -> bool:
    """The data reuses a distinctive value or a whole row of the example shown in the prompt."""
    if _has_marker(data, shot_markers(shot_data)):
        return True
    shot_rows = {_flat(line) for line in shot_data.strip().splitlines()[1:]}
    return any(_flat(line) in shot_rows for line in data.strip().splitlines()[1:])


def copies_shot_qa(question: str, answer: str, shot_pairs: Sequence[tuple[str, str]], shot_data: str) -> bool:
    """The pair names a value of the example's data (a grey heron is no part of this figure), or is one of the
    example's pairs word for word."""
    flat_pair = _flat(f"{question} {answer}")
    if any(marker in flat_pair for marker in shot_markers(shot_data)):  # substring: "grey herons" counts too
        return True
    return (_flat(question), _flat(answer)) in {(_flat(q), _flat(a)) for q, a in shot_pairs}


def _code_lines(code: str) -> list[str]:
    return [flat for line in code.splitlines() if (flat := re.sub(r"\s+", "", line))]


def copies_shot_code(code: str, shot_code: str, shot_data: str, shot_topic: str) -> bool:
    """The code is the example's code (whitespace aside), holds one of its values or its title, or repeats
    more than half of its lines."""
    if re.sub(r"\s+", "", code) == re.sub(r"\s+", "", shot_code):
        return True
    if _has_marker(code, [*shot_markers(shot_data), _flat(shot_topic)]):
        return True
    shot_lines = _code_lines(shot_code)
    ours = set(_code_lines(code))
    return sum(line in ours for line in shot_lines) * 2 > len(shot_lines)


def _shares_words(text: str, shown: str, count: int) -> bool:
    """`text` holds `count` consecutive words of `shown` (or all of it, when shorter)."""
    words = re.findall(r"[a-z0-9']+", shown.lower())
    flat = " " + " ".join(re.findall(r"[a-z0-9']+", text.lower())) + " "
    runs = [words[i : i + count] for i in range(max(1, len(words) - count + 1))]
    return any(f" {' '.join(run)} " in flat for run in runs)


def _short_title(line: str) -> str:
    """A title inside a long line: its first clause, cut to 12 words (the topic only steers the data prompt, so
    a clipped one still does its job)."""
    first = re.split(r"[:.!?;]", line, maxsplit=1)[0].split()
    if len(first) < 3:
        raise ParseError("topic is longer than 16 words and has no short first clause")
    return " ".join(first[:12]).rstrip(",")


# What chatty models put before a title: "Sure! Here's a title:", "How about:", "I'd call it", "Title:".
PREAMBLE = re.compile(
    r"^(?:(?:sure|certainly|of course|absolutely|okay|ok|great|here you go|happy to help)\b[^a-z0-9]*)*"
    r"(?:(?:here(?:'s| is| are)|how about|i(?:'d| would) (?:call it|go with|suggest|make|title it)|"
    r"my suggestion|suggested title|a good title|one option|title|topic)\b[^:\n]*?:\s*)?",
    re.IGNORECASE,
)
QUOTED = re.compile(r"[\"\u201c\u201d\u2018\u2019]([^\"\u201c\u201d]{3,150})[\"\u201c\u201d]")
QUOTES = "\"'\u201c\u201d\u2018\u2019`"


def clean_title(line: str) -> str:
    """A title line without markdown, list markers, a chatty preamble, quotes or trailing punctuation; '' when
    nothing of a title is left ('Sure! Here's a title:')."""
    line = re.sub(r"[*_#]{1,3}", "", line).strip()
    line = re.sub(r"^(?:[-\u2022]|\d+[.)])\s+", "", line)
    quoted = QUOTED.search(line)
    if quoted:  # 'I would make "Coffee exports by country"': the quoted phrase is the title
        line = quoted.group(1)
    line = PREAMBLE.sub("", line, count=1)
    line = line.strip().strip(QUOTES).strip()
    line = re.sub(r"[\s.,;:!\u2026-]+$", "", line).strip(QUOTES).strip()  # a title ends without a period
    if re.fullmatch(r"(?:sure|certainly|of course|okay|ok|great|absolutely)?[\s!.,]*", line, re.IGNORECASE):
        return ""
    return line


def parse_topic(text: str, shot_topic: str = "") -> str:
    """The first line that holds a title, cleaned (clean_title); a long line gives its first clause. ParseError
    when no line holds one."""
    for line in text.splitlines():
        line = clean_title(line)
        if not line:
            continue
        if len(line.split()) > 16:
            line = _short_title(line)
        if copies_example(line) or (shot_topic and _shares_words(line, shot_topic, 4)):
            raise ParseError("topic copies the prompt's example")
        return line
    raise ParseError("no title in the reply")


def _markdown_rows(lines: list[str]) -> list[list[str]]:
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if all(re.fullmatch(r":?-{2,}:?", c) or not c for c in cells):
            continue  # the |---|---| rule under the header
        rows.append(cells)
    return rows


def _widest_block(rows: list[list[str]]) -> list[list[str]]:
    """The longest run of consecutive rows with the same width (>= 2): the table inside a chatty reply."""
    best: list[list[str]] = []
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or len(rows[i]) != len(rows[start]):
            if len(rows[start]) >= 2 and i - start > len(best):
                best = rows[start:i]
            start = i
    return best


def parse_csv(text: str) -> str:
    """Validated CSV (a header and at least 2 data rows, all as wide as the header), re-written cleanly. The
    table is the longest run of equally wide lines, so prose around it is dropped; a Markdown pipe table is
    accepted and converted: small models often answer with one."""
    body = unfence(text)
    structured = _columns_rows(body)
    if structured is not None:
        body = structured
    lines = [line for line in body.splitlines() if line.strip()]
    if not lines:
        raise ParseError("no CSV in the reply")
    if sum(line.lstrip().startswith("|") for line in lines) >= 2:
        rows = _markdown_rows([line for line in lines if line.lstrip().startswith("|")])
    else:
        rows = [[c.strip() for c in row] for row in csv.reader(lines)]
    table = _widest_block(rows)
    # 'label: number' lines under a neutral header, when they make a longer table than the commas do (the
    # commas may be thousands separators: "2019: 371,484").
    labelled = _label_number_rows(lines)
    if len(labelled) >= 2 and len(labelled) + 1 > len(table):
        table = [["Item", "Value"], *labelled]
    if len(table) < 3:
        raise ParseError("no table of a header and at least 2 rows (2+ columns) in the reply")
    if any(not cell for cell in table[0]):
        raise ParseError("CSV header has an empty column name")
    if all(NUMBER.fullmatch(cell) for cell in table[0]):
        raise ParseError("CSV has no header row (its first row is numbers)")
    # Drop repeated rows, and the header repeated as a row: a looping model writes the same line again.
    unique = dict.fromkeys(tuple(r) for r in table[1:] if r != table[0])
    table = [table[0]] + [list(r) for r in unique][:MAX_DATA_ROWS]  # a looping model runs on; keep its start
    if len(table) < 3:
        raise ParseError("CSV rows are all the same")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    result = out.getvalue()
    if len(result) > MAX_DATA_CHARS:
        raise ParseError(f"CSV is too long ({len(result)} chars)")
    return result


def _columns_rows(body: str) -> str | None:
    """A structured reply, {"columns": [...], "rows": [[...], ...]}, as CSV text; None when it is not one."""
    if not body.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("columns"), list):
        return None
    rows = [r for r in value.get("rows") or [] if isinstance(r, list)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in [value["columns"], *rows]:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


# "Grey heron: 14", "- Moorhen - 18", "3. Coot 27%": a label, a separator, one number (with a unit or %).
LABEL_NUMBER = re.compile(
    r"^\s*(?:[-*\u2022]|\d+[.)]\s)?\s*([A-Za-z0-9][^:\n]*?)\s*(?::|\s[-\u2013=]\s)\s*"
    r"([-+]?[$\u20ac\u00a3]?\d[\d,]*(?:\.\d+)?\s*(?:%|[A-Za-z]{1,6})?)\s*$"
)


def _label_number_rows(lines: list[str]) -> list[list[str]]:
    """'label: number' lines as [label, number] rows; small models list values this way instead of CSV."""
    rows = []
    for line in lines:
        match = LABEL_NUMBER.match(line.replace("**", ""))
        if match:
            rows.append([match.group(1).strip(), match.group(2).strip().replace(",", "")])
    return rows


def _json_candidates(text: str) -> list[str]:
    body = unfence(text)
    starts = [i for i in (body.find("{"), body.find("[")) if i >= 0]
    if not starts:
        return []
    start = min(starts)
    closer = "}" if body[start] == "{" else "]"
    end = body.rfind(closer)
    if end <= start:
        raise ParseError("JSON is cut off (no closing bracket)")
    return [body[start : end + 1]]


def parse_json(text: str) -> str:
    """Validated JSON data (a non-empty object or array with at least 2 values), re-written compactly."""
    candidates = _json_candidates(text)
    if not candidates:
        raise ParseError("no JSON object in the reply")
    try:
        value = json.loads(candidates[0])
    except ValueError as e:
        raise ParseError(f"data is not valid JSON: {e}") from e
    if not isinstance(value, dict | list) or len(json.dumps(value)) < 10:
        raise ParseError("JSON data is empty")
    if _leaf_count(value) < 2:
        raise ParseError("JSON data has fewer than 2 values")
    result = json.dumps(value, indent=1, ensure_ascii=False)
    if len(result) > MAX_DATA_CHARS:
        raise ParseError(f"JSON is too long ({len(result)} chars)")
    return result


def _leaf_count(value: object) -> int:
    if isinstance(value, dict):
        return sum(_leaf_count(v) for v in value.values())
    if isinstance(value, list):
        return sum(_leaf_count(v) for v in value)
    return 0 if value in ("", None) else 1


def parse_data(text: str, data_format: str, shot_data: str = "") -> str:
    """Validated data; ParseError when it keeps a placeholder or copies `shot_data`, the example shown."""
    data = parse_csv(text) if data_format == "csv" else parse_json(text)
    if copies_example(data):
        raise ParseError("data copies the prompt's format example")
    if shot_data and copies_shot_data(data, shot_data):
        raise ParseError("data copies the prompt's example")
    return data


def _between(text: str, start: re.Pattern[str], end: str) -> str | None:
    match = start.search(text)
    if not match:
        return None
    stop = text.rfind(end)
    return text[match.start() : stop + len(end)] if stop > match.start() else text[match.start() :]


def extract_code(text: str, renderer: str) -> str:
    """The program in the reply, cut to where the renderer's language starts and ends; ParseError if none."""
    body = unfence(text)
    code: str | None
    if renderer == "graphviz":
        code = _between(body, re.compile(r"^\s*(?:strict\s+)?(?:di)?graph\b", re.MULTILINE | re.IGNORECASE), "}")
    elif renderer == "vegalite":
        code = _between(body, re.compile(r"\{"), "}")
    elif renderer == "latex":
        code = _between(body, re.compile(r"\\documentclass"), "\\end{document}")
    elif renderer == "html":
        code = _between(body, re.compile(r"<!DOCTYPE html|<html", re.IGNORECASE), "</html>")
        fragment = re.search(r"<(?:body|div|table|h[1-6]|p|ul|ol|section|header)\b", body, re.IGNORECASE)
        if code is None and fragment:  # a bare fragment: wrap it so the browser gets a whole page
            code = f"<!DOCTYPE html>\n<html><body>\n{body[fragment.start() :]}\n</body></html>"
    elif renderer == "mermaid":
        starts = "|".join(MERMAID_STARTS)
        match = re.search(rf"^\s*(?:{starts})\b", body, re.MULTILINE)
        code = body[match.start() :] if match else None
    else:  # matplotlib, plotly: Python
        code = body if re.search(r"^\s*(?:import|from)\s+\w+", body, re.MULTILINE) else None
    if not code or not code.strip():
        raise ParseError(f"no {renderer} code in the reply")
    return code.strip() + "\n"


# "Q: ...", "A1. ...", "**Question 3:** ...": a label, an optional number, a colon or period, the text.
QA_LINE = re.compile(
    r"^\s*(?:[-*\d.)]+\s*)?(?:\*\*)?(Q|A|Question|Answer)\s*\d*\s*(?:\*\*)?\s*[:.]\s*(?:\*\*)?\s*(.*)$",
    re.IGNORECASE,
)


def parse_qa(text: str, cut: bool = False) -> list[tuple[str, str]]:
    """Q:/A: pairs in order, or the pairs of a structured reply ({"pairs": [{"question", "answer"}, ...]}). A
    question's continuation lines (options) join it; an answer ends at the next Q. When the reply was `cut` at
    the token limit, its last pair may be partial and is left out (a structured reply keeps only the objects
    that closed before the cut)."""
    body = unfence(text)
    if body.lstrip().startswith("{"):
        return _structured_pairs(body)
    pairs, pending_question = _text_pairs(text)
    # Cut inside the last answer: that answer may be half written. Cut inside a new question: the pairs before
    # it are whole.
    return pairs[:-1] if cut and not pending_question else pairs


def _structured_pairs(body: str) -> list[tuple[str, str]]:
    """Each complete {"question": ..., "answer": ...} object, even in JSON cut off after it."""
    decoder = json.JSONDecoder()
    pairs = []
    for match in re.finditer(r"\{\s*\"(?:question|answer)\"", body):
        try:
            value, _ = decoder.raw_decode(body, match.start())
        except ValueError:
            continue
        question, answer = value.get("question"), value.get("answer")
        if isinstance(question, str) and isinstance(answer, str | int | float):
            pairs.append((question.strip(), str(answer).strip()))
    return pairs


def _text_pairs(text: str) -> tuple[list[tuple[str, str]], bool]:
    """(pairs, whether the text ends in a question still without its answer)."""
    pairs: list[tuple[str, str]] = []
    question: str | None = None
    answer: str | None = None
    for line in text.splitlines():
        match = QA_LINE.match(line)
        if match:
            label = match.group(1)[0].upper()
            content = match.group(2).strip().strip("*").strip()
            if label == "Q":
                if question is not None and answer is not None:
                    pairs.append((question, answer))
                question, answer = content, None
            elif question is not None:
                answer = content if answer is None else answer
        elif line.strip() and question is not None:
            if answer is None:
                question = f"{question}\n{line.strip()}".strip()  # options under a multiple-choice question
    if question is not None and answer is not None:
        pairs.append((question, answer))
    return [(q.strip(), a.strip()) for q, a in pairs], question is not None and answer is None
