"""What the figure's data says, in a form QA answers can be checked against: the tables (CSV, or lists of
objects in JSON) with their numeric columns, every value as whole-word text and as a number, and the text the
code puts on the picture (its strings, an HTML page's text, a LaTeX document's body) but never the code's own
boilerplate (figsize=(10, 6), fontsize=12, dpi=100).

Numbers are read as people write them: signs, currency, thousands separators, decimals, percentages and scale
words (1.2 million, 45k), and compared as whole values at the precision the answer is given in."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from itertools import combinations

SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9}
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
# Times (09:30), dates (2024-05-20) and fractions (3/4) are not numbers: they are matched as text.
NUMBER = re.compile(
    rf"(?<![\w.:/])(?<!\d-)([-+\u2212]?)\s?[$\u20ac\u00a3\u00a5]?\s?({_NUM})(?![:/]\d|-\d|\.\d|\d|,\d)"
    rf"(?:\s?(thousand|million|billion|bn|mn|k|m|b)\b)?(\s?%)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Number:
    value: float
    decimals: int  # digits after the point as written (1.50 -> 2): the precision the writer meant
    scale: float = 1.0
    percent: bool = False

    def matches(self, other: float) -> bool:
        """`other` rounds to this number at the precision it was written in (187 != 18; 45 == 45.3)."""
        step = 0.5 * 10 ** (-self.decimals) * self.scale
        return abs(self.value - other) <= step + 1e-9 * max(1.0, abs(other))


def numbers_in(text: str) -> list[Number]:
    found = []
    for match in NUMBER.finditer(text):
        sign, digits, scale_word, percent = match.groups()
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        scale = SCALES.get((scale_word or "").lower(), 1.0)
        value = float(digits.replace(",", "")) * scale * (-1 if sign in ("-", "\u2212") else 1)
        found.append(Number(value, decimals, scale, bool(percent)))
    return found


# A whole answer that is one number: "187 km/h", "$1,234.50", "about 45%", "1.2 million people", "-3".
ONE_NUMBER = re.compile(
    rf"^\W*(?:about|approximately|around|roughly|nearly|almost|~|\u2248)?\s*[-+\u2212]?\s?[$\u20ac\u00a3\u00a5]?\s?"
    rf"(?:{_NUM})(?:\s?(?:thousand|million|billion|bn|mn|k|m|b)\b)?\s?%?(?:\s*[^\d\s][^\d]{{0,24}})?$",
    re.IGNORECASE,
)


def as_one_number(answer: str) -> Number | None:
    """The number an answer consists of (with at most a short unit after it), else None."""
    if not ONE_NUMBER.match(answer.strip()):
        return None
    found = numbers_in(answer)
    return found[0] if len(found) == 1 else None


def words(text: str) -> str:
    """Lower-case words, separated by single spaces and padded with one at each end (for whole-word search):
    curly quotes straightened, thousands separators dropped, other punctuation as spaces."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"'s\b", "", text)
    return " " + " ".join(re.findall(r"[^\W_]+(?:\.\d+)?", text)) + " "


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    numeric: dict[int, list[float | None]] = field(default_factory=dict)  # column -> its numbers (None: blank)

    def __post_init__(self) -> None:
        for col in range(len(self.header)):
            values = [first_number(row[col]) if col < len(row) else None for row in self.rows]
            if self.rows and sum(v is not None for v in values) >= max(2, math.ceil(0.6 * len(self.rows))):
                self.numeric[col] = values

    @property
    def label_column(self) -> int | None:
        """The first column that names the rows (not numbers)."""
        return next((c for c in range(len(self.header)) if c not in self.numeric), None)


def first_number(cell: str) -> float | None:
    found = numbers_in(cell)
    return found[0].value if found else None


@dataclass
class Facts:
    """Everything a QA answer may be checked against."""

    tables: list[Table]
    texts: list[str]  # data cells, headers, JSON keys and values, the text the code shows
    numbers: list[float]  # every number in the data and in the shown text

    def text_found(self, answer: str) -> bool:
        needle = words(answer)
        if needle.strip() == "":
            return False
        return any(needle in words(text) for text in self.texts)

    def number_found(self, number: Number, values: list[float] | None = None) -> bool:
        """The number is one of `values` (default: every number of the data and shown text). '$465k' also
        matches 465 where a header says the column is in thousands ('North ($k)')."""
        values = self.numbers if values is None else values
        forms = [number] if number.scale == 1 else [number, Number(number.value / number.scale, number.decimals)]
        return any(form.matches(v) for form in forms for v in values)

    def named_rows(self, question: str) -> list[tuple[Table, int]]:
        """The rows whose label the question names as whole words (labels of 2+ characters)."""
        asked = words(question)
        found = []
        for table in self.tables:
            col = table.label_column
            if col is None:
                continue
            for index, row in enumerate(table.rows):
                label = words(row[col]) if col < len(row) else " "
                if len(label.strip()) >= 2 and label in asked:
                    found.append((table, index))
        # "Basecamp 3" names the row "Basecamp 3", not also a row labelled "3"
        return [(t, i) for t, i in found if not any(_longer_label(t, i, u, j) for u, j in found)]

    def row_values(self, table: Table, row: int) -> list[float]:
        """A row's numbers and what is computed from that row alone: its share of each column's total, the
        sum of its numeric cells and their differences."""
        cells = [column[row] for column in table.numeric.values() if column[row] is not None]
        values = list(cells) + [n.value for cell in table.rows[row] for n in numbers_in(cell)]
        for column in table.numeric.values():
            total = sum(v for v in column if v is not None)
            if total and column[row] is not None:
                values.append(100 * column[row] / total)
        if len(cells) >= 2:
            values.append(sum(cells))
            values += [abs(a - b) for a, b in combinations(cells, 2) if a != b]
        return values

    def derived(self, question: str) -> list[float]:
        """Values an answer may be computed to: per numeric column the sum, mean, range, each value's share of
        the sum (%), pairwise differences; row sums and differences across numeric columns; counts (rows,
        distinct values, rows above or below a number the question gives)."""
        values: list[float] = []
        threshold = _threshold(question)
        for table in self.tables:
            values += [len(table.rows), len(table.header)]
            for col in range(len(table.header)):
                values.append(len({row[col] for row in table.rows if col < len(row)}))
            columns = [[v for v in column if v is not None] for column in table.numeric.values()]
            for column in columns:
                if not column:
                    continue
                total = sum(column)
                values += [total, total / len(column), max(column) - min(column), len(column)]
                if total:
                    values += [100 * v / total for v in column]
                values += [abs(a - b) for a, b in combinations(column, 2) if a != b]
                if threshold is not None:
                    above, limit = threshold
                    values.append(sum((v > limit) if above else (v < limit) for v in column))
                    values.append(sum((v >= limit) if above else (v <= limit) for v in column))
            for row_index in range(len(table.rows)):
                cells = [column[row_index] for column in table.numeric.values() if column[row_index] is not None]
                if len(cells) >= 2:
                    values.append(sum(cells))
                    values += [abs(a - b) for a, b in combinations(cells, 2) if a != b]
        return values


def _longer_label(table: Table, row: int, other_table: Table, other_row: int) -> bool:
    col, other_col = table.label_column, other_table.label_column
    mine, theirs = words(table.rows[row][col]), words(other_table.rows[other_row][other_col])
    return mine != theirs and mine in theirs


def _threshold(question: str) -> tuple[bool, float] | None:
    """(above?, limit) for 'more than 40', 'under 1,000', 'at least 5', or None."""
    match = re.search(
        r"\b(more than|over|above|greater than|higher than|exceed(?:s|ed|ing)?|at least|less than|under|below|"
        r"fewer than|lower than|at most)\s+[$\u20ac\u00a3]?([\d,]+(?:\.\d+)?)",
        question,
        re.IGNORECASE,
    )
    if not match:
        return None
    above = match.group(1).lower() not in ("less than", "under", "below", "fewer than", "lower than", "at most")
    return above, float(match.group(2).replace(",", ""))


def parse_tables(data: str) -> tuple[list[Table], list[str]]:
    """(tables, every text value) of CSV or JSON data."""
    try:
        value = json.loads(data)
    except ValueError:
        value = None
    if isinstance(value, dict | list):
        tables: list[Table] = []
        texts: list[str] = []
        _walk_json(value, tables, texts)
        return tables, texts
    rows = [row for row in csv.reader(io.StringIO(data.strip())) if row]
    if not rows:
        return [], []
    table = Table(rows[0], rows[1:])
    return [table], [cell for row in rows for cell in row]


def _walk_json(value: object, tables: list[Table], texts: list[str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            texts.append(str(key))
            _walk_json(inner, tables, texts)
    elif isinstance(value, list):
        records = [v for v in value if isinstance(v, dict)]
        if len(records) >= 2:
            header = list(dict.fromkeys(k for record in records for k in record))
            rows = [[_text(record.get(k)) for k in header] for record in records]
            tables.append(Table(header, rows))
        for inner in value:
            _walk_json(inner, tables, texts)
    elif value is not None:
        texts.append(_text(value))


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None or isinstance(value, dict | list) else str(value)


STRING = re.compile(r"(?:[rbfu]{0,2})(\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*')")


def shown_text(code: str, renderer: str) -> list[str]:
    """The text the code puts on the picture (an over-estimate is fine; boilerplate numbers are what must go)."""
    if renderer in ("matplotlib", "plotly", "graphviz"):
        return [m.group(1).strip("\"'") for m in STRING.finditer(code)]  # string literals, never numeric arguments
    if renderer == "vegalite":
        try:
            return _json_values(json.loads(code))
        except ValueError:
            return []
    if renderer == "html":
        body = re.sub(r"(?is)<(style|script|head)\b.*?</\1>", " ", code)
        body = re.sub(r"(?s)<!--.*?-->", " ", body)
        return [re.sub(r"&nbsp;|&#160;", " ", t) for t in re.split(r"<[^>]*>", body) if t.strip()]
    if renderer == "latex":
        body = code.split("\\begin{document}", 1)[-1]
        body = re.sub(r"(?m)(?<!\\)%.*$", "", body)
        body = re.sub(r"\\(?:begin|end)\{[^}]*\}(?:\{[^}]*\}|\[[^\]]*\])*", " ", body)
        body = re.sub(r"\\(?:[a-zA-Z]+\*?)(?:\[[^\]]*\])?", " ", body)
        return [line for line in re.split(r"\\\\|\n|&", body.replace("{", " ").replace("}", " ")) if line.strip()]
    return code.splitlines()  # mermaid: the source is mostly what it shows


def _json_values(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _json_values(v)]
    if isinstance(value, list):
        return [s for v in value for s in _json_values(v)]
    return [] if value is None or isinstance(value, bool) else [_text(value)]


def facts_of(data: str, code: str, renderer: str) -> Facts:
    tables, data_texts = parse_tables(data)
    headers = [h for table in tables for h in table.header]
    shown = shown_text(code, renderer) if code else []
    texts = [*data_texts, *headers, *shown]
    numbers = [n.value for text in (*data_texts, *shown) for n in numbers_in(text)]
    return Facts(tables, texts, numbers)
