import pytest

from annotation.ama.cleaning import Unusable, clean_answer


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("The sign says OPEN.", "The sign says OPEN."),
        ("Assistant: Answer: It costs $2.50.", "It costs $2.50."),
        ('  "Two cups."  ', "Two cups."),
        ("It is red.\nQuestion: What else?\nAnswer: blue", "It is red."),
        ("A: The cafe is Luna.\n\nImage description: a cafe", "The cafe is Luna."),
        ("A-frame house with   a red door.", "A-frame house with a red door."),
    ],
)
def test_clean_answer(raw, expected):
    assert clean_answer(raw, "What is it?") == expected


@pytest.mark.parametrize(
    "raw, reason",
    [("", "empty"), ("Assistant:", "empty"), (" ... ?! ", "no words"), ("What is it?", "repeated the question")],
)
def test_unusable_answers(raw, reason):
    with pytest.raises(Unusable, match=reason):
        clean_answer(raw, "What is it?")
