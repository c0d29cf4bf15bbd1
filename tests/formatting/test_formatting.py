import numpy as np
import pytest

from formatting.clocks import CLOCK_QUESTIONS
from formatting.messages import Conversation, length_hint, render, style_prefix
from formatting.points import as_point_list, point_count_answer, pointing_answer, points_to_text
from formatting.prompts import PROMPTS, fill_template, maybe_no_point_prefix, sample_prompt
from formatting.subsets import SUBSETS, RowContext, format_row


def test_single_point_text():
    assert points_to_text([(10, 20)], "cup") == '<point x="10.0" y="20.0" alt="cup">cup</point>'


def test_multi_points_sorted_left_to_right_one_decimal():
    text = points_to_text([(55.56, 1.0), (10.04, 20.0), (30.0, 2.26)], "cups")
    assert text == ('<points x1="10.0" y1="20.0" x2="30.0" y2="2.3" x3="55.6" y3="1.0" alt="cups">cups</points>')


def test_ties_sorted_by_y():
    text = points_to_text([(5.0, 9.0), (5.0, 1.0)], "a")
    assert text.index('y1="1.0"') < text.index('y2="9.0"')


def test_point_count_answer_and_zero():
    pts = {"x": [70.0, 10.0, 40.0], "y": [5.0, 5.0, 5.0]}
    ans = point_count_answer(pts, "Cups")
    assert ans.startswith('Counting the <points x1="10.0"')
    assert ans.endswith('alt="cups">cups</points> shows a total of 3.')
    assert point_count_answer({"x": [], "y": []}, "cups") == "There are none."
    assert pointing_answer([], "cups") == "There are none."
    assert pointing_answer([{"x": 1, "y": 2}], "cup") == '<point x="1.0" y="2.0" alt="cup">cup</point>'


def test_as_point_list_shapes():
    assert as_point_list({"x": [1.0], "y": [2.0]}) == [(1.0, 2.0)]
    assert as_point_list([{"x": 1, "y": 2}]) == [(1.0, 2.0)]
    assert as_point_list([(1, 2)]) == [(1.0, 2.0)]
    assert as_point_list(None) == []
    with pytest.raises(ValueError):
        as_point_list({"x": [1.0], "y": []})


def test_templates_fill_and_keep_braces():
    assert fill_template("Point to {label}", label="a {b}") == "Point to a {b}"
    with pytest.raises(KeyError):
        fill_template("Point to {label}")
    rng = np.random.default_rng(0)
    for style in ("pointing", "point_count"):
        for _ in range(20):
            assert "{" not in sample_prompt(style, rng, label="dogs")
    assert all("{" not in p for p in PROMPTS["long_caption"])


def test_no_point_prefix_only_for_how_many():
    rng = np.random.default_rng(0)
    assert maybe_no_point_prefix("What color?", rng) == "What color?"
    assert maybe_no_point_prefix("How many dogs?", rng).endswith("How many dogs?")
    assert maybe_no_point_prefix("How many dogs?", rng) != "How many dogs?"


def test_length_hint_statistics():
    rng = np.random.default_rng(0)
    answer = "x" * 600
    hints = [length_hint(answer, rng) for _ in range(2000)]
    # floor division makes the hint ~0.5 below chars/15 on average
    assert abs(np.mean(hints) - (600 / 15 - 0.5)) < 0.3
    assert 1.0 < np.std(hints) < 2.3  # 25 chars of noise is ~1.7 units
    prefixes = [style_prefix("long_caption", answer, rng) for _ in range(2000)]
    no_hint = sum(p == "long_caption :" for p in prefixes) / len(prefixes)
    assert 0.06 < no_hint < 0.14
    assert style_prefix("clocks", "The time shown is 1:00 AM", rng) == "clocks:"
    assert style_prefix("long_caption", None, rng) == "long_caption :"


def test_render_roles_and_spacing():
    conv = Conversation(["What time is it?", "The time shown is 3:02 PM", "Sure?", "Yes"], "clocks")
    rng = np.random.default_rng(0)
    assert render(conv, rng) == [
        "User: clocks: What time is it? Assistant:",
        " The time shown is 3:02 PM",
        " User: Sure? Assistant:",
        " Yes",
    ]
    assert render(conv, rng, first=False)[0].startswith(" User: clocks:")
    assert render(conv, rng, for_inference=True)[-1] == " User: Sure? Assistant:"


def test_registry_has_all_subsets():
    assert set(SUBSETS) >= {"clocks", "count", "points", "cap", "capqa", "ama", "docs"}


def test_clocks_row():
    rng = np.random.default_rng(0)
    row = {"hour": 15, "minute": 2, "second": 7, "question": "What time is it?", "answer": "x"}
    (conv,) = format_row(row, rng, RowContext("clocks", split="train"))
    assert conv.messages[1] == "The time shown is 3:02 PM"
    assert conv.messages[0] in CLOCK_QUESTIONS and conv.style == "clocks"
    assert conv.metadata == {"hour": 15, "minute": 2, "second": 7}
    (conv,) = format_row(row, rng, RowContext("clocks", split="validation"))
    assert conv.messages[0] == "What time is it?"


def test_count_and_points_rows():
    rng = np.random.default_rng(0)
    (conv,) = format_row({"label": "Dog", "count": 0, "points": {"x": [], "y": []}}, rng, RowContext("count"))
    assert conv.messages[1] == "There are none." and "dog" in conv.messages[0]
    row = {"label": "cat", "count": 1, "points": [{"x": 3.0, "y": 4.0}], "collection_method": "pointing"}
    (conv,) = format_row(row, rng, RowContext("points"))
    assert conv.style == "pointing" and conv.messages[1].startswith("<point ")
    (conv,) = format_row(dict(row, collection_method="counting"), rng, RowContext("points"))
    assert conv.messages[1].endswith("shows a total of 1.")


def test_text_subsets():
    rng = np.random.default_rng(0)
    convs = format_row({"caption": "A cat.", "transcripts": ["um a cat", "a cat"]}, rng, RowContext("cap"))
    assert [c.style for c in convs] == ["long_caption", "transcript"]
    assert convs[1].messages[1] in ("um a cat", "a cat")
    (conv,) = format_row({"messages": ["How many?", "2", "Color?", "red"]}, rng, RowContext("capqa"))
    assert len(conv.messages) == 4 and conv.messages[0].endswith("How many?") and conv.messages[2] == "Color?"
    with pytest.raises(ValueError):
        format_row({"messages": ["q"]}, rng, RowContext("capqa"))
    (conv,) = format_row({"question": "Why?", "answer": "Because."}, rng, RowContext("ama"))
    assert conv.messages == ["Why?", "Because."] and conv.style == "user_qa"
    convs = format_row(
        {"questions": {"question": ["a?", "b?"], "answer": ["1", "2"]}}, rng, RowContext("docs", config="charts")
    )
    assert [c.messages for c in convs] == [["a?", "1"], ["b?", "2"]]
    assert convs[0].style == "pixmo_docs_charts"
    with pytest.raises(KeyError):
        format_row({}, rng, RowContext("nope"))
