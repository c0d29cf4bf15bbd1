"""The prompts of each stage, as LLMRequests. Bump PROMPTS_VERSION whenever a prompt's wording changes.

The topic, data, code and QA stages show the model one worked exchange (a user turn and its answer, on another
subject) before the real request: a small model follows a shown exchange far better than a described format. The
shown answers are ours, so a reply that reuses them is rejected (parse_topic, copies_shot_data, copies_shot_code,
copies_shot_qa in parsing.py): every kept topic, table, program and QA pair is the model's own."""

import csv
import io
import json
from dataclasses import dataclass, replace

from generators.docs.figures import FIGURE_TYPES
from inference.llm import ChatMessage, GenerationParams, LLMRequest

PROMPTS_VERSION = "docs-prompts-5"

# The QA step sees the code, cut to this length: the data carries the facts, and long prompts are slow.
QA_CODE_CHARS = 1500

# Placeholder skeletons of older prompt versions; parsing still rejects data that keeps a placeholder.
CSV_EXAMPLE = "Name,Value\n<a name>,<a number>\n<a name>,<a number>"
JSON_EXAMPLE = '{"title": "<a title>", "items": [{"name": "<a name>", "value": <a number>}]}'
CSV_INSTRUCTIONS = (
    "Write the data as CSV: one header row, then 4 to 8 data rows, values separated by commas. "
    "Reply with the CSV only, no explanation."
)
JSON_INSTRUCTIONS = (
    "Write the data as one short JSON object with concrete values (names, numbers, dates). "
    "Reply with the JSON only, no explanation."
)
# Structured outputs: with `structured` on, every stage with a format asks for it as a JSON schema (the backend
# constrains the reply to it where it can) and the prompt and its worked exchange show the same JSON.
TABLE_SCHEMA = {
    "type": "object",
    "properties": {
        "columns": {"type": "array", "items": {"type": "string", "maxLength": 60}, "minItems": 2, "maxItems": 8},
        "rows": {
            "type": "array",
            "items": {
                "type": "array",
                "items": {"anyOf": [{"type": "string", "maxLength": 80}, {"type": "number"}]},
                "minItems": 2,
                "maxItems": 8,
            },
            "minItems": 2,
            "maxItems": 12,
        },
    },
    "required": ["columns", "rows"],
    "additionalProperties": False,
}
DOCUMENT_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 120},
        "subtitle": {"type": "string", "maxLength": 200},
        "date": {"type": "string", "maxLength": 40},
        "place": {"type": "string", "maxLength": 120},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 120},
                    "value": {"anyOf": [{"type": "string", "maxLength": 300}, {"type": "number"}]},
                    "time": {"type": "string", "maxLength": 40},
                },
                "required": ["name"],
                "additionalProperties": False,
            },
            "minItems": 2,
            "maxItems": 12,
        },
    },
    "required": ["title", "items"],
    "additionalProperties": False,
}
QA_SCHEMA = {
    "type": "object",
    "properties": {
        "pairs": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "question": {"type": "string", "maxLength": 400},
                    "answer": {"type": "string", "maxLength": 400},
                },
                "required": ["question", "answer"],
                "additionalProperties": False,
            },
            "minItems": 3,
            "maxItems": 12,
        }
    },
    "required": ["pairs"],
    "additionalProperties": False,
}
# Vega-Lite's own schema is far too large for a grammar; this holds what a single-view spec needs, and leaves
# the inside of mark, encoding, layer and config open.
VEGALITE_SCHEMA = {
    "type": "object",
    "properties": {
        "$schema": {"type": "string"},
        "title": {"anyOf": [{"type": "string"}, {"type": "object"}]},
        "description": {"type": "string"},
        "width": {"type": "number"},
        "height": {"type": "number"},
        "padding": {"type": "number"},
        "data": {
            "type": "object",
            "properties": {"values": {"type": "array", "items": {"type": "object"}, "minItems": 1}},
            "required": ["values"],
            "additionalProperties": False,
        },
        "mark": {"anyOf": [{"type": "string"}, {"type": "object"}]},
        "encoding": {"type": "object"},
        "transform": {"type": "array"},
        "layer": {"type": "array"},
        "config": {"type": "object"},
        "background": {"type": "string"},
        "autosize": {"anyOf": [{"type": "string"}, {"type": "object"}]},
        "view": {"type": "object"},
        "resolve": {"type": "object"},
        "params": {"type": "array"},
    },
    "required": ["data"],
    "additionalProperties": False,
}
STRUCTURED_CODE_SCHEMAS = {"vegalite": VEGALITE_SCHEMA}
TABLE_INSTRUCTIONS = (
    'Reply with one JSON object: {"columns": [the header names], "rows": [[one data row], ...]}, 4 to 8 rows.'
)
DOCUMENT_INSTRUCTIONS = (
    'Reply with one JSON object: {"title": ..., "date": ..., "place": ..., "items": [{"name": ..., "value": ..., '
    '"time": ...}, ...]} with concrete values (names, numbers, dates); leave out fields you do not need.'
)
QA_TEXT_FORMAT = "in exactly this format:\nQ: question\nA: answer"
QA_JSON_FORMAT = 'as one JSON object: {"pairs": [{"question": ..., "answer": ...}, ...]}'


def schema_text(schema: dict) -> str:
    return json.dumps(schema, separators=(",", ":"))


def table_json(csv_text: str) -> str:
    """CSV as the structured reply of TABLE_SCHEMA (numbers as numbers), for the worked exchange."""
    header, *rows = list(csv.reader(io.StringIO(csv_text.strip())))
    return json.dumps({"columns": header, "rows": [[_number_or_text(c) for c in row] for row in rows]})


def _number_or_text(cell: str) -> int | float | str:
    try:
        return int(cell)
    except ValueError:
        try:
            return float(cell)
        except ValueError:
            return cell


# Data must follow a format, so a lower temperature than the topic's; the small model loops on one line ("Moorhen,
# 1.5" again and again) unless tokens it already wrote are made less likely.
DATA_TEMPERATURE = 0.3
DATA_REPETITION_PENALTY = 1.1


@dataclass(frozen=True)
class Shot:
    """One worked exchange shown before the real request: what it was asked about, and the answer we wrote."""

    persona: str
    figure_type: str
    topic: str
    data: str
    code: str = ""


# Data shots. Their values are unusual on purpose, so a reply that reuses one is recognisably a copy.
CSV_SHOT = Shot(
    "A park ranger counting water birds",
    "bar chart",
    "Water birds counted at Kestrel Lake in May",
    "Bird,Count\nGrey heron,14\nLittle grebe,9\nTufted duck,27\nGreat crested grebe,6\nMoorhen,18\n",
)
# Diagrams (flows, trees, graphs) need links between things, not values.
CSV_LINKS_SHOT = Shot(
    "A baker planning the morning shift",
    "flowchart",
    "How sourdough loaves are made at Rye Lane Bakery",
    "Step,Next step\nFeed the starter,Mix the dough\nMix the dough,Fold and rest\nFold and rest,Shape loaves\n"
    "Shape loaves,Bake at 240C\n",
)
JSON_SHOT = Shot(
    "A librarian running community events",
    "event poster",
    "Autumn book swap at Millbrook Library",
    '{"title": "Autumn Book Swap", "place": "Millbrook Library", "date": "2024-10-12", "items": '
    '[{"name": "Drop-off desk opens", "time": "09:30"}, {"name": "Children\'s corner", "time": "10:00"}, '
    '{"name": "Swap closes", "time": "13:00"}]}',
)
# Diagrams are drawn from links between things; pie and gantt charts, though "diagrams", need values.
LINK_FIGURES = {f.name for figures in FIGURE_TYPES.values() for f in figures if f.config == "diagrams"} - {
    "pie chart",
    "gantt chart",
}


def data_shot(figure_type: str, data_format: str) -> Shot:
    if data_format == "json":
        return JSON_SHOT
    return CSV_LINKS_SHOT if figure_type in LINK_FIGURES else CSV_SHOT


# Code shots, one per renderer: short, known-good code of that renderer's kind, drawing the shot's data.
_BIRDS = Shot(CSV_SHOT.persona, CSV_SHOT.figure_type, CSV_SHOT.topic, "Bird,Count\nGrey heron,14\nLittle grebe,9\n")
_BIRDS3 = replace(_BIRDS, data=_BIRDS.data + "Tufted duck,27\n")
CODE_SHOTS: dict[str, Shot] = {
    "matplotlib": replace(
        _BIRDS,
        code=(
            "import matplotlib.pyplot as plt\n\n"
            'birds = ["Grey heron", "Little grebe"]\n'
            "counts = [14, 9]\n"
            'plt.bar(birds, counts, color="teal")\n'
            'plt.title("Water birds counted at Kestrel Lake in May")\n'
            'plt.ylabel("Birds counted")\n'
            'plt.savefig("output.png", dpi=100, bbox_inches="tight")\n'
        ),
    ),
    "plotly": replace(
        _BIRDS,
        code=(
            "import plotly.graph_objects as go\n\n"
            'fig = go.Figure(go.Bar(x=["Grey heron", "Little grebe"], y=[14, 9]))\n'
            'fig.update_layout(title="Water birds counted at Kestrel Lake in May", width=700, height=450)\n'
            'fig.write_image("output.png")\n'
        ),
    ),
    "vegalite": replace(
        _BIRDS,
        code=(
            '{"width": 400, "height": 300, "padding": 20, "title": "Water birds counted at Kestrel Lake in May",\n'
            ' "data": {"values": [{"Bird": "Grey heron", "Count": 14}, {"Bird": "Little grebe", "Count": 9}]},\n'
            ' "mark": "bar",\n'
            ' "encoding": {"x": {"field": "Bird", "type": "nominal"}, '
            '"y": {"field": "Count", "type": "quantitative"}}}\n'
        ),
    ),
    # Few boilerplate lines: a reply that keeps them but writes its own content is not "most of the lines".
    "latex": Shot(
        CSV_SHOT.persona,
        "table",
        CSV_SHOT.topic,
        _BIRDS3.data,
        code=(
            "\\documentclass{article}\n\\begin{document}\n"
            "\\section*{Water birds counted at Kestrel Lake in May}\n"
            "Counted by the lake rangers on 18 May.\n\n"
            "\\begin{tabular}{lr}\n"
            "Bird & Count \\\\ \\hline\n"
            "Grey heron & 14 \\\\\nLittle grebe & 9 \\\\\nTufted duck & 27 \\\\\n"
            "\\end{tabular}\n\\end{document}\n"
        ),
    ),
    "html": Shot(
        CSV_SHOT.persona,
        "data table",
        CSV_SHOT.topic,
        _BIRDS3.data,
        code=(
            '<!DOCTYPE html><html><body style="font-family: sans-serif; margin: 30px; background: #eef3f8">\n'
            "<h1>Water birds counted at Kestrel Lake in May</h1>\n"
            '<table border="1" cellpadding="12" style="font-size: 24px; background: white">\n'
            "<tr><th>Bird</th><th>Count</th></tr>\n"
            "<tr><td>Grey heron</td><td>14</td></tr>\n"
            "<tr><td>Little grebe</td><td>9</td></tr>\n"
            "<tr><td>Tufted duck</td><td>27</td></tr>\n"
            "</table></body></html>\n"
        ),
    ),
    "mermaid": Shot(
        CSV_LINKS_SHOT.persona,
        CSV_LINKS_SHOT.figure_type,
        CSV_LINKS_SHOT.topic,
        "Step,Next step\nFeed the starter,Mix the dough\nMix the dough,Fold and rest\n",
        code="flowchart TD\n    A[Feed the starter] --> B[Mix the dough]\n    B --> C[Fold and rest]\n",
    ),
    "graphviz": Shot(
        CSV_LINKS_SHOT.persona,
        CSV_LINKS_SHOT.figure_type,
        CSV_LINKS_SHOT.topic,
        "Step,Next step\nFeed the starter,Mix the dough\nMix the dough,Fold and rest\n",
        code=('digraph G {\n    "Feed the starter" -> "Mix the dough";\n    "Mix the dough" -> "Fold and rest";\n}\n'),
    ),
}


def _you(persona: str) -> str:
    return persona[0].lower() + persona[1:]


def _request(
    key: str,
    messages: tuple[ChatMessage, ...],
    max_new_tokens: int,
    temperature: float,
    seed: int,
    repetition_penalty: float = 1.0,
    schema: dict | None = None,
) -> LLMRequest:
    params = GenerationParams(
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=0.95,
        seed=seed,
        repetition_penalty=repetition_penalty,
        json_schema=None if schema is None else schema_text(schema),
    )
    return LLMRequest(messages=messages, params=params, key=key)


def topic_question(persona: str, figure_type: str) -> str:
    return (
        f"You are {_you(persona)}. Give the title of a {figure_type} you would make. "
        "Reply with the title only, at most 10 words."
    )


def topic_request(key: str, persona: str, figure_type: str, max_new_tokens: int, seed: int) -> LLMRequest:
    shot = CSV_SHOT
    messages = (
        ChatMessage("user", topic_question(shot.persona, shot.figure_type)),
        ChatMessage("assistant", shot.topic),
        ChatMessage("user", topic_question(persona, figure_type)),
    )
    return _request(key, messages, max_new_tokens, 0.6, seed)


def data_question(persona: str, figure_type: str, topic: str, data_format: str, structured: bool = False) -> str:
    if structured:
        instructions = TABLE_INSTRUCTIONS if data_format == "csv" else DOCUMENT_INSTRUCTIONS
    else:
        instructions = CSV_INSTRUCTIONS if data_format == "csv" else JSON_INSTRUCTIONS
    return (
        f"You are {_you(persona)}. You are making a {figure_type} about: {topic}.\n"
        f"Invent realistic data for it. {instructions}"
    )


def data_schema(data_format: str) -> dict:
    return TABLE_SCHEMA if data_format == "csv" else DOCUMENT_SCHEMA


def data_messages(
    persona: str, figure_type: str, topic: str, data_format: str, structured: bool = False
) -> tuple[ChatMessage, ...]:
    shot = data_shot(figure_type, data_format)
    shown = table_json(shot.data) if structured and data_format == "csv" else shot.data.strip()
    return (
        ChatMessage("user", data_question(shot.persona, shot.figure_type, shot.topic, data_format, structured)),
        ChatMessage("assistant", shown),
        ChatMessage("user", data_question(persona, figure_type, topic, data_format, structured)),
    )


def data_request(
    key: str,
    messages: tuple[ChatMessage, ...],
    data_format: str,
    max_new_tokens: int,
    seed: int,
    structured: bool = False,
) -> LLMRequest:
    schema = data_schema(data_format) if structured else None
    return _request(key, messages, max_new_tokens, DATA_TEMPERATURE, seed, DATA_REPETITION_PENALTY, schema)


def code_question(persona: str, figure_type: str, topic: str, data: str, code_instructions: str) -> str:
    return (
        f'Make a {figure_type} about "{topic}" for {_you(persona)}.\n'
        f"Use exactly this data:\n{data.strip()}\n\n{code_instructions}\nReply with the code only."
    )


def code_messages(
    persona: str, figure_type: str, topic: str, data: str, code_instructions: str, shot: Shot | None = None
) -> tuple[ChatMessage, ...]:
    """The code request, after the renderer's worked exchange when there is one."""
    ask = ChatMessage("user", code_question(persona, figure_type, topic, data, code_instructions))
    if shot is None:
        return (ask,)
    shown = code_question(shot.persona, shot.figure_type, shot.topic, shot.data, code_instructions)
    return (ChatMessage("user", shown), ChatMessage("assistant", shot.code.strip()), ask)


def code_request(
    key: str,
    messages: tuple[ChatMessage, ...],
    max_new_tokens: int,
    temperature: float,
    seed: int,
    renderer: str = "",
    structured: bool = False,
) -> LLMRequest:
    schema = STRUCTURED_CODE_SCHEMAS.get(renderer) if structured else None
    return _request(key, messages, max_new_tokens, temperature, seed, schema=schema)


def repair_messages(messages: tuple[ChatMessage, ...], code: str, problem: str) -> tuple[ChatMessage, ...]:
    """The conversation so far, the failed code as the model's turn, and the error to fix."""
    fix = f"That did not work: {problem[:1200]}\nFix it. Reply with the complete corrected code only."
    return (*messages, ChatMessage("assistant", code), ChatMessage("user", fix))


def cut_problem(tokens: int) -> str:
    """What a repair round tells the model whose reply hit the token limit."""
    limit = f"the {tokens}-token limit" if tokens else "the token limit"
    return (
        f"your reply was cut off at {limit} before it ended. Write it again, complete and "
        "shorter: fewer words, rows or decorations, nothing left out at the end"
    )


def shorter_messages(messages: tuple[ChatMessage, ...], reply: str, tokens: int) -> tuple[ChatMessage, ...]:
    """A cut reply as the model's turn, and the request to write it again complete and shorter."""
    ask = f"That did not work: {cut_problem(tokens)}."
    return (*messages, ChatMessage("assistant", reply), ChatMessage("user", ask))


# The QA exchange shown first: the bird counts drawn with the plotly example, and pairs of each kind.
QA_SHOT_PAIRS: tuple[tuple[str, str], ...] = (
    ("How many grey herons were counted?", "14"),
    ("Which bird was counted most often?\n(A) Grey heron (B) Tufted duck (C) Moorhen (D) Little grebe", "(B)"),
    ("Were more moorhens than little grebes counted?", "Yes"),
    (
        "Summarise the figure.",
        "Tufted ducks were the most common of five water birds, great crested grebes the rarest.",
    ),
    ("What was the weather on the day of the count?", "unanswerable"),
)


def qa_question(figure_type: str, topic: str, data: str, code: str, structured: bool = False) -> str:
    return (
        f'A {figure_type} about "{topic}" was drawn from this data:\n{data.strip()}\n\n'
        f"and this code:\n{code[:QA_CODE_CHARS].strip()}\n\n"
        "Write questions a reader could answer by looking at the figure, each followed by its answer, "
        f"{QA_JSON_FORMAT if structured else QA_TEXT_FORMAT}\n\n"
        "Write 5 questions whose answers are a short value copied from the data, 2 multiple-choice questions "
        "that list options (A), (B), (C), (D) with the correct option as the answer, 1 yes/no question, "
        "1 question asking to summarise the figure answered in one sentence, and 1 question the figure "
        'cannot answer, answered "unanswerable".'
    )


def qa_request(
    key: str,
    figure_type: str,
    topic: str,
    data: str,
    code: str,
    max_new_tokens: int,
    seed: int,
    structured: bool = False,
) -> LLMRequest:
    shot = CODE_SHOTS["plotly"]
    if structured:
        shown = json.dumps({"pairs": [{"question": q, "answer": a} for q, a in QA_SHOT_PAIRS]})
    else:
        shown = "\n".join(f"Q: {q}\nA: {a}" for q, a in QA_SHOT_PAIRS)
    messages = (
        ChatMessage("user", qa_question(shot.figure_type, shot.topic, CSV_SHOT.data, shot.code, structured)),
        ChatMessage("assistant", shown),
        ChatMessage("user", qa_question(figure_type, topic, data, code, structured)),
    )
    return _request(key, messages, max_new_tokens, 0.5, seed, schema=QA_SCHEMA if structured else None)
