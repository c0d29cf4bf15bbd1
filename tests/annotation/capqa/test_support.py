"""A question must ask about what the caption names; an answer must be new and come from the caption's own words.
Every check, with hand-written model output, keeps what it should and drops what it should with its reason."""

import pytest

from annotation.capqa.support import ANSWER_CHECKS, QUESTION_CHECKS, answer_problem, question_problem

CAPTION = (
    "A blue city bus is parked on a street in front of a building. Four people stand on the sidewalk next to the "
    "bus; one man wears a dark jacket and jeans. The words 'cero emisiones' are written on its side."
)


@pytest.mark.parametrize(
    "question",
    [
        "What colour is the bus?",
        "How many people are standing on the sidewalk?",
        "What is written on the side of the bus?",
        "What is the main object in the photo?",  # generic, but about the image
        "Where is the bus parked?",
    ],
)
def test_questions_about_the_caption_are_kept(question):
    assert question_problem(question, CAPTION) is None


@pytest.mark.parametrize(
    ("question", "check", "detail"),
    [
        ("What colour is the bus", "no question mark", "question mark"),
        ("Is " + "the bus " * 20 + "blue?", "question too long", "more than 30 words"),
        ("What could a person looking at the photo could ask?", "copies the prompt", "instructions"),
        ("What does the description say about the bus?", "refers to the caption", "description"),
        ("What is it?", "asks about nothing", "names nothing"),
        ("What do you mean?", "asks about things not in the caption", "['mean']"),
        ("What colour is the sky above the car?", "asks about things not in the caption", "['car', 'sky']"),
    ],
)
def test_bad_questions_are_dropped_with_a_reason(question, check, detail):
    problem = question_problem(question, CAPTION)
    assert problem is not None and problem.check == check and detail in problem.reason
    assert check in QUESTION_CHECKS


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What colour is the bus?", "The bus is blue."),
        ("How many people stand on the sidewalk?", "4"),
        ("How many people stand on the sidewalk?", "Four people."),
        ("Is there a bus?", "Yes"),
        ("Is there a car?", "No."),
        ("What is written on the side of the bus?", "The words 'cero emisiones'."),
        ("What is the man wearing?", "A man wears a dark jacket and jeans."),  # "a man" is no invented count
    ],
)
def test_supported_answers_are_kept(question, answer):
    assert answer_problem(question, answer, CAPTION, set()) is None


LONG = CAPTION.split(" and jeans")[0]  # 30 words straight from the caption


@pytest.mark.parametrize(
    ("question", "answer", "seen", "check", "detail"),
    [
        ("What is there?", " ".join(["bus"] * 70), set(), "answer too long", "more than 60 words"),
        ("What does the bus say?", "Using only facts: cero emisiones.", set(), "copies the prompt", "instructions"),
        ("What colour is the bus?", "The description says it is blue.", set(), "refers to the caption", ""),
        ("Is it blue?", "Is it blue?", set(), "repeats the question", ""),
        ("What colour is the bus?", "Blue.", {"blue"}, "duplicate answer", "already given"),
        ("What is in the photo?", LONG, set(), "copies the caption", "verbatim"),
        ("How many people are there?", "There are 6 people.", set(), "invented number", "[6]"),
        ("Who is the man?", "The man is Carlos from Madrid.", set(), "invented name", "['carlos', 'madrid']"),
        ("Is the bus parked?", "It is.", set(), "says nothing", ""),
        ("What colour is the bus?", "The bus is red with yellow stripes.", set(), "unsupported answer", "strip"),
    ],
)  # fmt: skip
def test_bad_answers_are_dropped_with_a_reason(question, answer, seen, check, detail):
    problem = answer_problem(question, answer, CAPTION, seen)
    assert problem is not None and problem.check == check and detail in problem.reason
    assert check in ANSWER_CHECKS


def test_answer_words_taken_from_the_question_count_as_support():
    # "main" and "object" are not in the caption but the (checked) question asked about them.
    assert answer_problem("What is the main object?", "The main object is a blue bus.", CAPTION, set()) is None
