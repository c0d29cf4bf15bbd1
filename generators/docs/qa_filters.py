"""Which QA pairs are kept: each pair gets a kind (PixMo-Docs' mix) and is kept only when its answer can be
checked against the figure's data (grounding.py); the QA step never sees the image, so an answer the data does
not support was made up. Every dropped pair says why.

- short answers: a number must equal a value of the data or of the text the code shows (as a whole value, at
  the answer's precision: 18 is not 187), or be computed from the data (a column's sum, mean, range, a share,
  a difference, a count); words must occur as whole words; "which is the highest/lowest" must name that row.
- yes/no: normalised to Yes / No; a comparison of two rows the data settles must agree with it.
- multiple choice: the answer's letter must be one of the listed options, and that option must pass the short
  answer checks.
- summaries: every number they state must be grounded, and they must name something from the data.
- unanswerable: kept as they are."""

from __future__ import annotations

import re
from dataclasses import dataclass

from generators.docs.grounding import Facts, Table, as_one_number, facts_of, numbers_in, words

KINDS = ("short", "multiple_choice", "yes_no", "summary", "unanswerable")
UNANSWERABLE = re.compile(
    r"^\W*(unanswerable|cannot be (determined|answered)|not (shown|available|answerable)|"
    r"(the )?(figure|chart|data|table) does not (show|say))\b",
    re.IGNORECASE,
)
PLACEHOLDERS = {"question", "answer", "short value", "...", "(a)", "option"}
SUMMARY_WORDS = 8  # answers this long are summaries, not extractive
YES_NO = re.compile(r"^\W*(yes|no)\b(?!-)", re.IGNORECASE)
OPTION = re.compile(r"\(([A-Da-d])\)\s*(.+?)(?=\s*\([A-Da-d]\)|\n|$)|^\s*([A-D])[).:]\s+(.+?)$", re.MULTILINE)
ANSWER_LETTER = re.compile(r"^\W*\(?([A-Ha-h])\)?(?:[).:,\s]|$)\s*(.*)$", re.DOTALL)
HIGH = re.compile(
    r"\b(most|highest|largest|biggest|greatest|maximum|max|top|longest|tallest|heaviest|busiest|best|fastest|"
    r"oldest|earliest|latest|costliest|priciest|most expensive)\b",
    re.IGNORECASE,
)
LOW = re.compile(
    r"\b(least|lowest|smallest|fewest|minimum|min|shortest|lightest|cheapest|slowest|worst|youngest|"
    r"least expensive)\b",
    re.IGNORECASE,
)
MORE = re.compile(
    r"\b(more|higher|greater|larger|bigger|exceed\w*|above|over|longer|taller|heavier|faster|older|warmer|"
    r"hotter|costlier|pricier|wider)\b",
    re.IGNORECASE,
)
LESS = re.compile(
    r"\b(less|fewer|lower|smaller|below|under|shorter|lighter|cheaper|slower|younger|colder|cooler|narrower)\b",
    re.IGNORECASE,
)
# Words that name a measure without naming its column: "fastest" asks about the speed column.
MEASURES = {
    "speed": ("fast", "slow", "quick"),
    "price": ("expensive", "cheap", "cost", "pric"),
    "cost": ("expensive", "cheap", "cost", "pric"),
    "height": ("tall", "high"),
    "weight": ("heav", "light"),
    "length": ("long", "short"),
    "duration": ("long", "short"),
    "age": ("old", "young"),
    "temperature": ("warm", "hot", "cold", "cool"),
    "population": ("populous",),
}
ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str
    kind: str


def normalise(text: str) -> str:
    """Lower case, punctuation as spaces, thousands separators dropped (1,800 -> 1800)."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower())
    return re.sub(r"[^a-z0-9.%-]+", " ", text).strip(" .")


def options(question: str) -> dict[str, str]:
    """Letter -> option text of a multiple-choice question: '(A) Oslo (B) Rome' or 'A) Oslo' lines."""
    found = {}
    for match in OPTION.finditer(question):
        letter, text = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        found.setdefault(letter.upper(), text.strip().rstrip(",;"))
    return found


def classify(question: str, answer: str) -> str:
    if UNANSWERABLE.match(answer.strip()):
        return "unanswerable"
    if len(options(question)) >= 2 and ANSWER_LETTER.match(answer):
        return "multiple_choice"
    if YES_NO.match(answer) and len(answer.split()) < SUMMARY_WORDS + 4:
        return "yes_no"
    if len(answer.split()) >= SUMMARY_WORDS:
        return "summary"
    return "short"


def short_problem(question: str, answer: str, facts: Facts) -> str | None:
    """Why a short answer is not supported by the data, or None when it is."""
    answer = ARTICLE.sub("", answer.strip().rstrip(".!"))
    number = as_one_number(answer)
    if number is not None:
        named = facts.named_rows(question)
        if len(named) == 1:  # "What is the top speed of the Model S?": the answer must be that row's value
            table, row = named[0]
            if facts.number_found(number, facts.row_values(table, row)):
                return None
            label = table.rows[row][table.label_column]
            return f"number {answer!r} is not a value of {label} in the data"
        if facts.number_found(number) or facts.number_found(number, facts.derived(question)):
            return None
        if number.percent and any(number.matches(100 * v) for v in facts.numbers if abs(v) <= 1):
            return None
        return f"number {answer!r} is not in the data and not computed from it"
    parts = [p for p in re.split(r",\s*|;\s*|\s+and\s+|\s+&\s+", answer) if p.strip()]
    for part in parts:
        part = ARTICLE.sub("", part.strip())
        numbers = numbers_in(part)
        if facts.text_found(part):
            continue
        # A value with a unit or label the data writes differently ("14 birds"): its number must be there.
        if numbers and as_one_number(part) is not None and facts.number_found(numbers[0]):
            continue
        return f"{part!r} is not in the data"
    return ranking_problem(question, answer, facts)


def ranking_problem(question: str, answer: str, facts: Facts) -> str | None:
    """'Which ... the highest/lowest ...?' must be answered with the row that is highest/lowest in the data."""
    high, low = HIGH.search(question), LOW.search(question)
    if bool(high) == bool(low):
        return None
    rank = 2 if re.search(r"\bsecond\b", question, re.I) else 3 if re.search(r"\bthird\b", question, re.I) else 1
    for table in facts.tables:
        rows = _rows_named(table, answer)
        if not rows or not table.numeric:
            continue
        columns = _columns_asked(table, question)
        best_names = []
        for col in columns:
            values = table.numeric[col]
            ranked = sorted((v for v in values if v is not None), reverse=bool(high))
            if len(ranked) < rank:
                continue
            if any(values[row] == ranked[rank - 1] for row in rows):
                return None
            best_names.append(table.rows[values.index(ranked[rank - 1])][table.label_column or 0])
        if best_names:
            return f"{answer!r} is not the {(high or low).group(0).lower()} in the data ({best_names[0]} is)"
    return None


def _rows_named(table: Table, answer: str) -> list[int]:
    """The rows the answer names: those whose label it is, else those whose label it contains or is part of."""
    col = table.label_column
    if col is None:
        return []
    target = words(answer)
    labels = [words(row[col]) if col < len(row) else " " for row in table.rows]
    exact = [i for i, label in enumerate(labels) if label.strip() and label == target]
    if exact:
        return exact
    return [i for i, label in enumerate(labels) if label.strip() and (label in target or target in label)]


def _columns_asked(table: Table, question: str) -> list[int]:
    """The numeric columns the question names by a header word, else all of them."""
    asked = words(question)

    def named(col: int) -> bool:
        header = words(re.sub(r"\(.*?\)", "", table.header[col])).split()
        if any(f" {w} " in asked for w in header if len(w) > 2):
            return True
        stems = [stem for w in header for measure, stems in MEASURES.items() if w.startswith(measure) for stem in stems]
        return any(re.search(rf" {stem}\w*", asked) for stem in stems)

    return [col for col in table.numeric if named(col)] or list(table.numeric)


def yes_no_problem(question: str, answer: str, facts: Facts) -> str | None:
    """A comparison of two named rows ('Did Oslo get more rain than Rome?') must agree with the data."""
    more, less = MORE.search(question), LESS.search(question)
    if bool(more) == bool(less):
        return None
    said_yes = YES_NO.match(answer).group(1).lower() == "yes"
    flat = words(question)
    for table in facts.tables:
        col = table.label_column
        if col is None or not table.numeric:
            continue
        named = sorted(
            (flat.find(words(row[col])), i)
            for i, row in enumerate(table.rows)
            if col < len(row) and words(row[col]).strip() and words(row[col]) in flat
        )
        if len(named) != 2:
            continue
        (_, first), (_, second) = named
        for column in _columns_asked(table, question):
            a, b = table.numeric[column][first], table.numeric[column][second]
            if a is None or b is None:
                continue
            truth = a > b if more else a < b
            if truth != said_yes:
                shown = f"{table.rows[first][col]}: {a:g}, {table.rows[second][col]}: {b:g}"
                return f"answer {answer!r} contradicts the data ({shown})"
            return None
    return None


def multiple_choice_problem(question: str, answer: str, facts: Facts) -> str | None:
    listed = options(question)
    match = ANSWER_LETTER.match(answer)
    letter = match.group(1).upper()
    if letter not in listed:
        return f"answer {letter} is not one of the options ({', '.join(sorted(listed))})"
    said = match.group(2).strip().strip("()").strip()
    if said and words(said) != words(listed[letter]) and not facts.text_found(said):
        return f"answer text {said!r} is not option {letter} ({listed[letter]!r})"
    problem = short_problem(question, listed[letter], facts)
    return None if problem is None else f"the correct option is not grounded: {problem}"


def summary_problem(answer: str, facts: Facts, question: str) -> str | None:
    derived = facts.derived(question)
    for number in numbers_in(answer):
        if number.decimals == 0 and number.scale == 1 and 1 <= number.value <= 12 and not number.percent:
            continue  # "three of the five", "top 3": small counts are read off the figure
        if not (facts.number_found(number) or facts.number_found(number, derived)):
            return f"summary states a number not in the data ({number.value:g})"
    flat = words(answer)
    names = [text for text in facts.texts if len(words(text).strip()) >= 3]
    if not any(words(text) in flat for text in names) and not numbers_in(answer):
        return "summary names nothing from the data"
    return None


def filter_qa(
    pairs: list[tuple[str, str]], data: str, code: str, renderer: str = ""
) -> tuple[list[QAPair], list[dict[str, str]]]:
    """(kept pairs, dropped pairs with their reason)."""
    facts = facts_of(data, code, renderer)
    kept: list[QAPair] = []
    dropped: list[dict[str, str]] = []
    seen: set[str] = set()
    for question, answer in pairs:
        reason = None
        kind = classify(question, answer)
        if not question.strip() or not answer.strip():
            reason = "empty question or answer"
        elif normalise(question) in seen:
            reason = "duplicate question"
        elif normalise(question) in PLACEHOLDERS or normalise(answer) in PLACEHOLDERS:
            reason = "prompt placeholder copied"
        elif normalise(answer) == normalise(question):
            reason = "answer repeats the question"
        elif kind == "short":
            reason = short_problem(question, answer, facts)
        elif kind == "yes_no":
            reason = yes_no_problem(question, answer, facts)
            answer = YES_NO.match(answer).group(1).capitalize()
        elif kind == "multiple_choice":
            reason = multiple_choice_problem(question, answer, facts)
        elif kind == "summary":
            reason = summary_problem(answer, facts, question)
        if reason:
            dropped.append({"question": question[:200], "answer": answer[:200], "reason": reason})
            continue
        seen.add(normalise(question))
        kept.append(QAPair(question, answer, kind))
    return kept, dropped
