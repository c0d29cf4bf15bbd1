"""A pair is kept only when it is well formed, new, and answered from the caption's own words."""

import pytest

from annotation.capqa.support import qa_problem

CAPTION = (
    "A blue city bus is parked on a street in front of a building. Four people stand on the sidewalk next to the "
    "bus; one man wears a dark jacket and jeans. The words 'cero emisiones' are written on its side."
)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What colour is the bus?", "The bus is blue."),
        ("How many people stand on the sidewalk?", "4"),
        ("How many people stand on the sidewalk?", "Four people."),
        ("Is there a bus?", "Yes"),
        ("What is written on the side of the bus?", "The words 'cero emisiones'."),
    ],
)
def test_supported_pairs_are_kept(question, answer):
    assert qa_problem(question, answer, CAPTION, set()) is None


@pytest.mark.parametrize(
    ("question", "answer", "seen", "reason"),
    [
        ("What colour is the bus", "Blue.", set(), "question mark"),
        ("What colour is the bus?", "The bus is red with yellow stripes and a driver.", set(), "not supported"),
        ("How many people are there?", "There are 6 people.", set(), "numbers not in the caption: [6]"),
        ("What colour is the bus?", "Blue.", {"what colour is the bus"}, "duplicate question"),
        ("Is it blue?", "Is it blue?", set(), "repeats the question"),
        ("What does the bus say?", "Use this format: <answer>", set(), "copies the prompt"),
        ("What is it?", "It is.", set(), "says nothing"),
        ("What is there?", " ".join(["bus"] * 90), set(), "too long"),
    ],
)
def test_bad_pairs_are_dropped_with_a_reason(question, answer, seen, reason):
    assert reason in (qa_problem(question, answer, CAPTION, seen) or "")
