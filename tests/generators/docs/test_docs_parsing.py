"""Parsers of model replies: topics, CSV/JSON data, renderer code and QA pairs."""

import json

import pytest

from generators.docs.parsing import ParseError, extract_code, parse_data, parse_qa, parse_topic


def test_topic_takes_first_line_without_labels_or_quotes():
    assert parse_topic('\n"Title: Coffee exports by country, 2022"\nmore text') == "Coffee exports by country, 2022"
    assert parse_topic("1. **Bird arrivals per week**") == "Bird arrivals per week"


def test_topic_from_chatty_line_uses_quoted_phrase_or_first_clause():
    chatty = 'I would make a chart called "Weekly hive weights in June" because it shows the honey flow very clearly'
    assert parse_topic(chatty) == "Weekly hive weights in June"
    rambling = "The Art of Aroma: A Day in the Life: A Night in the Night: A Day in the Life: again and again"
    assert parse_topic(rambling) == "The Art of Aroma"
    assert parse_topic(" ".join(["word"] * 30)) == " ".join(["word"] * 12)
    with pytest.raises(ParseError):
        parse_topic("Hi. " + " ".join(["word"] * 30))
    with pytest.raises(ParseError):
        parse_topic("   \n  ")


def test_csv_inside_prose_and_fences_is_found_and_rewritten():
    reply = "Here is the data:\n```csv\nCity, Rent\nOslo, 1800\nRome, 1200\nLima, 600\n```\nHope it helps."
    assert parse_data(reply, "csv") == "City,Rent\nOslo,1800\nRome,1200\nLima,600\n"


def test_markdown_table_becomes_csv_and_repeated_rows_go():
    reply = "| Hive | Kg |\n|---|---|\n| A | 12 |\n| B | 9 |\n| B | 9 |\n| C | 14 |"
    assert parse_data(reply, "csv") == "Hive,Kg\nA,12\nB,9\nC,14\n"


@pytest.mark.parametrize(
    "reply",
    [
        "No table here, just prose.",
        "Name,Value\nA,1",  # one data row
        "Name,Value\n<a name>,<a number>\n<a name>,<a number>",  # the prompt's skeleton copied
    ],
)
def test_bad_csv_is_rejected(reply):
    with pytest.raises(ParseError):
        parse_data(reply, "csv")


def test_json_is_extracted_validated_and_cut_off_json_is_named():
    reply = 'Sure!\n```json\n{"title": "Menu", "items": [{"name": "Soup", "price": 4}]}\n```'
    value = json.loads(parse_data(reply, "json"))
    assert value["items"][0]["name"] == "Soup"
    with pytest.raises(ParseError, match="cut off"):
        parse_data('{"title": "Menu", "items": [', "json")
    with pytest.raises(ParseError, match="not valid JSON"):
        parse_data('{"title": Menu}', "json")
    with pytest.raises(ParseError):
        parse_data("{}", "json")


@pytest.mark.parametrize(
    ("renderer", "reply", "starts", "ends"),
    [
        ("graphviz", "Here:\ndigraph G {\n a -> b;\n}\nDone.", "digraph G", "}"),
        ("vegalite", 'Spec: {"mark": "bar"} ok', '{"mark"', "}"),
        (
            "latex",
            "x\n\\documentclass{article}\\begin{document}Hi\\end{document}\ntrailing",
            "\\documentclass",
            "\\end{document}",
        ),
        ("html", "<!DOCTYPE html><html><body>x</body></html> bye", "<!DOCTYPE html>", "</html>"),
        ("html", "<table><tr><td>1</td></tr></table>", "<!DOCTYPE html>", "</html>"),
        ("mermaid", "```mermaid\nflowchart TD\n A-->B\n```", "flowchart TD", "A-->B"),
        (
            "matplotlib",
            "```python\nimport matplotlib.pyplot as plt\nplt.plot([1])\n```",
            "import matplotlib",
            "plt.plot([1])",
        ),
    ],
)
def test_extract_code_cuts_to_the_language(renderer, reply, starts, ends):
    code = extract_code(reply, renderer).strip()
    assert code.startswith(starts) and code.endswith(ends)


@pytest.mark.parametrize("renderer", ["graphviz", "latex", "html", "mermaid", "plotly"])
def test_extract_code_refuses_prose(renderer):
    with pytest.raises(ParseError):
        extract_code("I cannot draw that, but here is an explanation of the idea.", renderer)


def test_parse_qa_pairs_with_options_and_numbering():
    reply = (
        "Q1: Which city has the highest rent?\nA1: Oslo\n"
        "Q: Which is cheapest?\n(A) Oslo (B) Lima\nA: (B) Lima\n"
        "**Question 3:** Is Rome listed?\n**Answer:** Yes\n"
        "Q: dangling question without answer\n"
    )
    assert parse_qa(reply) == [
        ("Which city has the highest rent?", "Oslo"),
        ("Which is cheapest?\n(A) Oslo (B) Lima", "(B) Lima"),
        ("Is Rome listed?", "Yes"),
    ]
