"""QA kinds and filters: empty, duplicated, placeholder and made-up short answers are dropped with a reason."""

from generators.docs.qa_filters import classify, filter_qa

DATA = "City,Rent\nOslo,1800\nRome,1200\nLima,600\n"


def test_classify_kinds():
    assert classify("Which is cheapest?\n(A) Oslo (B) Lima", "(B) Lima") == "multiple_choice"
    assert classify("Is Rome listed?", "Yes.") == "yes_no"
    assert classify("What is the mayor's name?", "Unanswerable") == "unanswerable"
    assert classify("Summarise the table.", "Rents fall from Oslo to Lima, with Oslo three times Lima.") == "summary"
    assert classify("Rent in Oslo?", "1800") == "short"


def test_filter_keeps_grounded_answers_and_says_why_it_drops():
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
    assert [(p.answer, p.kind) for p in kept] == [
        ("1,800", "short"),
        ("yes", "yes_no"),
        ("unanswerable", "unanswerable"),
    ]
    assert [d["reason"] for d in dropped] == [
        "duplicate question",
        "short answer not found in the data or code",
        "prompt placeholder copied",
        "empty question or answer",
    ]


def test_answers_found_in_code_count_too():
    kept, _ = filter_qa([("What colour are the bars?", "teal")], DATA, "ax.bar(x, y, color='teal')")
    assert len(kept) == 1
