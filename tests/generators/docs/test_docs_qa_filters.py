"""QA kinds and grounding: answers are kept only when the data supports them (numbers as whole values with
units, signs, percentages and separators; names as whole words; computed totals and counts; the row a
"highest" question names), and every dropped pair says why."""

import pytest

from generators.docs.grounding import as_one_number, numbers_in, shown_text
from generators.docs.qa_filters import classify, filter_qa

DATA = "City,Rent\nOslo,1800\nRome,1200\nLima,600\n"
CARS = 'Car,Top speed (km/h),Price (USD)\nModel S,187,"79,990"\nTaycan,162,"86,700"\nIoniq 5,115,"41,650"\n'
CARS_CODE = (
    "import matplotlib.pyplot as plt\n"
    "plt.style.use('ggplot')\n"
    "fig, ax = plt.subplots(figsize=(10, 6))\n"
    'ax.bar(["Model S", "Taycan", "Ioniq 5"], [187, 162, 115], color="teal")\n'
    'ax.set_title("Top speeds of three electric cars")\n'
    'plt.savefig("output.png", dpi=100)\n'
)
GOALS = "Player,Goals,Assists\nAda Berg,14,3\nLena Holm,9,11\nMia Strand,6,2\n"


def kept_and_dropped(pairs, data=CARS, code=CARS_CODE, renderer="matplotlib"):
    kept, dropped = filter_qa(pairs, data, code, renderer)
    return [p.answer for p in kept], {d["answer"]: d["reason"] for d in dropped}


def test_classify_kinds():
    assert classify("Which is cheapest?\n(A) Oslo (B) Lima", "(B) Lima") == "multiple_choice"
    assert classify("Is Rome listed?", "Yes.") == "yes_no"
    assert classify("Is Oslo dearer than Rome?", "Yes, it is higher.") == "yes_no"
    assert classify("What is the mayor's name?", "Unanswerable") == "unanswerable"
    assert classify("Summarise the table.", "Rents fall from Oslo to Lima, with Oslo three times Lima.") == "summary"
    assert classify("Rent in Oslo?", "1800") == "short"


def test_numbers_are_read_as_written():
    assert as_one_number("187 km/h").value == 187
    assert as_one_number("$1,234.50").value == 1234.5 and as_one_number("$1,234.50").decimals == 2
    assert as_one_number("-3.5%").value == -3.5 and as_one_number("-3.5%").percent
    assert as_one_number("about 1.2 million people").value == 1_200_000
    assert as_one_number("9:30") is None and as_one_number("2 to 3") is None
    assert [n.value for n in numbers_in("In 2023, 1,800 (up 12%)")] == [2023, 1800, 12]


def test_correct_answers_the_old_substring_match_dropped_are_kept():
    pairs = [
        ("What is the top speed of the Model S?", "187 km/h"),  # the unit is in the header, not the cell
        ("What is the combined top speed of the three cars?", "464 km/h"),  # a computed total
        ("How many cars are compared?", "3"),  # a count
        ("By how much is the Model S faster than the Ioniq 5?", "72 km/h"),  # a difference
        ("What is the average top speed?", "154.7"),  # a mean, at the precision given
        ("How many cars cost more than $50,000?", "2"),  # a count with the question's threshold
        ("Is the Model S faster than the Taycan?", "Yes, it is higher."),
        ("What does the Taycan cost?", "$86,700"),
    ]
    kept, dropped = kept_and_dropped(pairs)
    assert kept == ["187 km/h", "464 km/h", "3", "72 km/h", "154.7", "2", "Yes", "$86,700"], dropped


def test_wrong_answers_the_old_substring_match_kept_are_dropped():
    pairs = [
        ("What is the top speed of the Model S?", "18"),  # a substring of 187
        ("How wide is the figure in inches?", "10"),  # the code's figsize, not the data
        ("Which car is the fastest?", "Taycan"),  # in the data, but not the fastest
        ("Is the Ioniq 5 faster than the Taycan?", "Yes"),
        ("What is the price of the Ioniq 5?", "$41,000"),
    ]
    kept, dropped = kept_and_dropped(pairs)
    assert kept == []
    assert dropped["18"] == "number '18' is not a value of Model S in the data"
    assert "not in the data" in dropped["10"] and "not a value of Ioniq 5" in dropped["$41,000"]
    assert dropped["Taycan"] == "'Taycan' is not the fastest in the data (Model S is)"
    assert "contradicts the data" in dropped["Yes"]


def test_a_value_asked_about_one_row_must_be_that_rows():
    shares = "Appliance,Share of use (%)\nHeating,38\nLighting,9\nOther,3\n"
    pairs = [
        ("What share of use goes to heating?", "3%"),  # in the data, but it is Other's
        ("What share of use goes to lighting?", "9%"),
        ("What is the revenue of the North in Q2 2023?", "$465k"),  # the header says thousands
    ]
    revenue = "Quarter,North ($k),South ($k)\nQ1 2023,412,538\nQ2 2023,465,602\n"
    assert kept_and_dropped(pairs[:2], shares, "", "html") == (
        ["9%"],
        {"3%": "number '3%' is not a value of Heating in the data"},
    )
    assert kept_and_dropped(pairs[2:], revenue, "", "html")[0] == ["$465k"]


def test_names_are_whole_words_and_rankings_are_checked():
    pairs = [
        ("Who scored the most goals?", "Lena Holm"),  # a real player, the wrong one
        ("Who scored the most goals? ", "Ada Berg"),
        ("Who made the most assists?", "Lena Holm"),
        ("Which player is listed last?", "Strand"),  # a whole word of a name
        ("Who is the coach?", "Ada"),  # whole word, present: kept even though vague
        ("Which team do they play for?", "Berg FC"),
    ]
    kept, dropped = kept_and_dropped(pairs, GOALS, "", "html")
    assert kept == ["Ada Berg", "Lena Holm", "Strand", "Ada"]
    assert "not the most" in dropped["Lena Holm"] and "'Berg FC' is not in the data" == dropped["Berg FC"]
    partial = kept_and_dropped([("Who scored 14?", "Ad")], GOALS, "", "html")[1]
    assert partial == {"Ad": "'Ad' is not in the data"}  # a part of a word is no match


def test_multiple_choice_and_summaries_are_checked():
    pairs = [
        ("Which car is cheapest?\n(A) Model S (B) Taycan (C) Ioniq 5 (D) Leaf", "(C) Ioniq 5"),
        ("Which car is slowest?\n(A) Model S (B) Taycan (C) Ioniq 5 (D) Leaf", "(A)"),  # wrong option
        ("Which brand is shown?\n(A) Tesla (B) Kia", "(E)"),  # no such option
        ("Summarise the figure.", "The Model S is the fastest at 187 km/h, the Ioniq 5 the cheapest at $41,650."),
        ("Describe the chart.", "The Model S leads with a top speed of 195 km/h, well ahead of the others."),
    ]
    kept, dropped = kept_and_dropped(pairs)
    assert kept == ["(C) Ioniq 5", pairs[3][1]]
    assert "not the slowest" in dropped["(A)"]
    assert "not one of the options" in dropped["(E)"]
    assert "number not in the data (195)" in dropped[pairs[4][1]]


def test_filter_says_why_it_drops():
    pairs = [
        ("What is the rent in Oslo?", "1,800"),  # thousands separator still matches the data
        ("What is the rent in Oslo?", "1800"),  # duplicate question
        ("Which city is most expensive?", "Paris"),  # not in the data: made up
        ("Is Rome listed?", "yes"),
        ("Who is the mayor?", "unanswerable"),
        ("Question", "Answer"),  # the prompt's placeholders
        ("What is shown?", " "),
    ]
    kept, dropped = filter_qa(pairs, DATA, "")
    kinds = [("1,800", "short"), ("Yes", "yes_no"), ("unanswerable", "unanswerable")]
    assert [(p.answer, p.kind) for p in kept] == kinds
    assert [d["reason"] for d in dropped] == [
        "duplicate question",
        "'Paris' is not in the data",
        "prompt placeholder copied",
        "empty question or answer",
    ]


@pytest.mark.parametrize(
    ("renderer", "code", "shown", "hidden"),
    [
        ("matplotlib", "plt.figure(figsize=(10, 6))\nplt.title('Rents in 2024')", "Rents in 2024", "10"),
        ("html", "<style>td { padding: 12px }</style><p>Total: 3,600</p>", "Total: 3,600", "12px"),
        ("latex", "\\documentclass{article}\\begin{document}\\textbf{Rents} & 1800\\end{document}", "Rents", "article"),
    ],
)
def test_shown_text_leaves_out_the_codes_boilerplate(renderer, code, shown, hidden):
    texts = " | ".join(shown_text(code, renderer))
    assert shown in texts and hidden not in texts


def test_text_the_code_shows_counts_but_its_numbers_do_not():
    code = "ax.bar(x, y, color='teal')\nfig.set_size_inches(12, 4)"
    kept, dropped = kept_and_dropped([("What colour are the bars?", "teal"), ("How tall?", "4")], DATA, code)
    assert kept == ["teal"] and "not in the data" in dropped["4"]
