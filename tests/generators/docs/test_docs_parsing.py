"""Parsers of model replies: topics, CSV/JSON data, renderer code and QA pairs."""

import json

import pytest

from generators.docs.parsing import (
    ParseError,
    copies_shot_code,
    copies_shot_qa,
    extract_code,
    parse_data,
    parse_qa,
    parse_topic,
    shot_markers,
)


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


def test_label_number_lines_become_csv_and_a_looping_header_goes():
    reply = "Here are the counts:\n- Coot: 31\n- Mute swan - 4\n3. Mallard: 1,250\n"
    assert parse_data(reply, "csv") == "Item,Value\nCoot,31\nMute swan,4\nMallard,1250\n"
    looping = "City,Rent\nOslo,1800\nCity,Rent\nRome,1200\nOslo,1800\nCity,Rent\n"
    assert parse_data(looping, "csv") == "City,Rent\nOslo,1800\nRome,1200\n"
    with pytest.raises(ParseError):
        parse_data("Name,Value\nJohn Smith\nJohn Smith\nJohn Smith", "csv")  # one-column lines


SHOT_CSV = "Bird,Count\nGrey heron,14\nLittle grebe,9\nMoorhen,18\n"
SHOT_JSON = '{"title": "Autumn Book Swap", "items": [{"name": "Swap closes", "time": "13:00"}]}'


def test_data_that_copies_the_shown_example_is_rejected():
    assert shot_markers(SHOT_CSV) == ["grey heron", "little grebe", "moorhen"]
    with pytest.raises(ParseError, match="copies the prompt's example"):
        parse_data(SHOT_CSV, "csv", SHOT_CSV)
    with pytest.raises(ParseError, match="copies the prompt's example"):  # one shown value among new ones
        parse_data("Bird,Count\nCoot,31\nGrey Heron,3\nSwan,4\n", "csv", SHOT_CSV)
    with pytest.raises(ParseError, match="copies the prompt's example"):
        parse_data('{"title": "Autumn book swap", "date": "May 2"}', "json", SHOT_JSON)
    # Same header and shape, the model's own rows: kept. Short numbers alone are no copy.
    assert parse_data("Bird,Count\nCoot,14\nMute swan,9\n", "csv", SHOT_CSV) == "Bird,Count\nCoot,14\nMute swan,9\n"
    assert parse_data('{"title": "Jazz night", "time": "13:00"}', "json", SHOT_JSON)


SHOT_CODE = (
    'import matplotlib.pyplot as plt\n\nbirds = ["Grey heron", "Little grebe"]\ncounts = [14, 9]\n'
    'plt.bar(birds, counts)\nplt.title("Water birds at Kestrel Lake")\nplt.savefig("output.png")\n'
)


def test_code_that_copies_the_shown_example_is_detected():
    def copies(code: str) -> bool:
        return copies_shot_code(code, SHOT_CODE, SHOT_CSV, "Water birds at Kestrel Lake")

    assert copies(SHOT_CODE.replace("\n", "\n\n  "))  # the same code, whitespace aside
    assert copies(SHOT_CODE.replace("[14, 9]", "[3, 5]"))  # new numbers, the example's names
    assert copies('plt.title("WATER birds at Kestrel   lake")')  # the example's title
    lines = SHOT_CODE.splitlines()  # import, blank, birds, counts, bar, title, savefig
    assert copies("\n".join([lines[0], 'birds = ["Coot", "Swan"]', *lines[3:5], lines[6]]))  # 4 of its 6 lines
    assert not copies("\n".join([lines[0], 'birds = ["Coot", "Swan"]', "counts = [3, 5]", lines[4], lines[6]]))
    own = (
        'import matplotlib.pyplot as plt\n\nbirds = ["Coot", "Swan"]\ncounts = [31, 4]\n'
        'plt.bar(birds, counts)\nplt.title("Birds on the canal")\nplt.savefig("output.png")\n'
    )
    assert not copies(own)  # the same kind of program with the model's own data and title


def test_csv_needs_a_header_and_a_looping_table_is_cut():
    with pytest.raises(ParseError, match="no header"):
        parse_data("1,2,3\n4,5,6\n7,8,9\n", "csv")
    rows = "".join(f"Day {i},{i * 3}\n" for i in range(1, 30))
    assert parse_data("Day,Visits\n" + rows, "csv").count("\n") == 13  # header + the first 12 rows


def test_topic_that_copies_the_shown_title_is_rejected():
    shown = "Water birds counted at Kestrel Lake in May"
    with pytest.raises(ParseError, match="copies the prompt's example"):
        parse_topic("Title: Water birds counted at Kestrel Lake in  May", shown)
    with pytest.raises(ParseError, match="copies the prompt's example"):
        parse_topic("Birds counted at Kestrel Lake in June", shown)  # four words in a row of the shown title
    assert parse_topic("Water birds on the canal", shown) == "Water birds on the canal"


def test_qa_pairs_that_copy_the_shown_example_are_detected():
    shown = [("Were more moorhens than little grebes counted?", "Yes"), ("What was the weather?", "unanswerable")]

    def copies(question: str, answer: str) -> bool:
        return copies_shot_qa(question, answer, shown, SHOT_CSV)

    assert copies("How many Grey Herons were seen?", "3")  # about the example's data, not this figure's
    assert copies("What was the weather?", "Unanswerable")  # the shown pair, word for word
    assert not copies("What was the weather?", "Sunny")  # a generic question with the model's own answer
    assert not copies("Which city has the highest rent?", "Oslo")


@pytest.mark.parametrize(
    ("reply", "title"),
    [
        ('Sure! Here\'s a title: "The Lindqvist family tree"', "The Lindqvist family tree"),
        ("Sure! Here's a title: \"The Lindqvist family tree", "The Lindqvist family tree"),  # cut before the quote
        ("Certainly! Title: Top Speeds of Production Cars.", "Top Speeds of Production Cars"),
        ("\u201cQuarterly Sales by Region.\u201d", "Quarterly Sales by Region"),
        ("Here's a title for your bar chart:\n\n**Visitors by Month**", "Visitors by Month"),
    ],
)
def test_topic_cleaning_strips_preambles_quotes_and_trailing_punctuation(reply, title):
    assert parse_topic(reply) == title


@pytest.mark.parametrize("reply", ["Sure! Here's a title:", "Sure!\n\n", "Here is a title for your chart:"])
def test_a_topic_reply_with_nothing_left_is_rejected(reply):
    with pytest.raises(ParseError, match="no title"):
        parse_topic(reply)


def test_structured_table_becomes_csv_with_thousands_kept_as_one_cell():
    reply = json.dumps(
        {"columns": ["Month", "Visitors"], "rows": [["April", 1240], ["May", "2,315"], ["June", 3870.0]]}
    )
    assert parse_data(reply, "csv") == 'Month,Visitors\nApril,1240\nMay,"2,315"\nJune,3870\n'


def test_qa_cut_at_the_limit_loses_only_the_partial_pair():
    text = "Q: How many?\nA: 14\nQ: Which is largest?\nA: Tufted d"
    assert parse_qa(text) == [("How many?", "14"), ("Which is largest?", "Tufted d")]
    assert parse_qa(text, cut=True) == [("How many?", "14")]
    cut_in_question = "Q: How many?\nA: 14\nQ: Which is lar"
    assert parse_qa(cut_in_question, cut=True) == [("How many?", "14")]
    structured = '{"pairs": [{"question": "How many?", "answer": "14"}, {"question": "Which is lar'
    assert parse_qa(structured, cut=True) == [("How many?", "14")]
    bold = "1. **Q:** How many?\n   **A:** 14\n2. **Question:** Largest?\n   **Answer:** Tufted duck"
    assert parse_qa(bold) == [("How many?", "14"), ("Largest?", "Tufted duck")]
