"""The model's text -> one (question, answer) pair, for the shapes small models actually write."""

import pytest

from annotation.capqa.parsing import MalformedQA, parse_qa


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("Question: What colour is the bus?\nAnswer: Blue.", ("What colour is the bus?", "Blue.")),
        ("**Question:** How many?\n**Answer:** Two.\n\nQuestion: more?\nAnswer: no", ("How many?", "Two.")),
        ("Q: Is it red?\nA: Yes", ("Is it red?", "Yes")),
        ("Question 1: Where?\nAnswer 1: On the street,\nby a wall.", ("Where?", "On the street, by a wall.")),
        ("What colour is the suit?\nThe answer: Black. The answer: Black.", ("What colour is the suit?", "Black.")),
        ("Sure!\nQuestion: What is parked?\nAnswer is: A bus.", ("What is parked?", "A bus.")),
    ],
)  # fmt: skip
def test_pairs_are_found(text, pair):
    assert parse_qa(text) == pair


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("A blue bus parked on a street.", "no 'Question:' line"),
        ("What's the scene about?", "without an 'Answer:' line"),
        ("Question: \nAnswer: blue", "the question is empty"),
        ("Question: What colour?\nAnswer:", "the answer is empty"),
    ],
)
def test_malformed_text_says_why(text, reason):
    with pytest.raises(MalformedQA, match=reason):
        parse_qa(text)
