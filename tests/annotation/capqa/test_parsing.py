"""The model's replies -> a question or an answer, for the shapes small models actually write."""

import pytest

from annotation.capqa.parsing import MalformedQA, parse_answer, parse_question


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("What colour is the bus?", "What colour is the bus?"),
        ("**Question:** How many people are there?\n**Answer:** Four.", "How many people are there?"),
        ("Q: Is it red?\nA: Yes", "Is it red?"),
        ("Question 1: Where is the bus? It is on a street.", "Where is the bus?"),
        ("Sure!\n\n\"What is written on the bus?\"", "What is written on the bus?"),
        ("A: Blue.\nQuestion: What colour is it?", "What colour is it?"),
        ("Question: What colour is the bus", "What colour is the bus"),  # the checks say what is wrong
    ],
)  # fmt: skip
def test_questions_are_found(text, question):
    assert parse_question(text) == question


@pytest.mark.parametrize(("text", "reason"), [("", "empty reply"), ("A blue bus on a street.", "no question")])
def test_replies_without_a_question_say_why(text, reason):
    with pytest.raises(MalformedQA, match=reason):
        parse_question(text)


@pytest.mark.parametrize(
    ("text", "truncated", "answer"),
    [
        ("The bus is blue.", False, "The bus is blue."),
        ("Answer: Four people.\n\nQuestion: What else?\nAnswer: More.", False, "Four people."),
        ("**The answer is:** On the street,\nby a wall.", False, "On the street, by a wall."),
        ("Black. The answer: Black. The answer: Black.", False, "Black."),
        ("The bus is blue. It has four doors and a", True, "The bus is blue."),
        ("A: Yes", False, "Yes"),
    ],
)  # fmt: skip
def test_answers_are_found(text, truncated, answer):
    assert parse_answer(text, truncated) == answer


@pytest.mark.parametrize(
    ("text", "truncated", "reason"),
    [("", False, "empty answer"), ("Answer:", False, "empty answer"), ("The bus is blue and it", True, "cut off")],
)
def test_replies_without_an_answer_say_why(text, truncated, reason):
    with pytest.raises(MalformedQA, match=reason):
        parse_answer(text, truncated)
