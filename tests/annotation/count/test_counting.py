"""Count labels from detections: merging, most frequent class, ties, ambiguity, caps, zero, points, QA text."""

import pytest

from annotation.count import CountConfig, CountRejected, count_objects, count_qa, merge_duplicates, plural
from formatting.points import point_count_answer

W, H = 200, 100


def box(x: float, y: float, size: float = 20.0) -> tuple[float, float, float, float]:
    return (x - size / 2, y - size / 2, x + size / 2, y + size / 2)


def reason_of(boxes, scores, labels, config=CountConfig()) -> str:
    with pytest.raises(CountRejected) as caught:
        count_objects(boxes, scores, labels, W, H, config)
    return caught.value.reason


def test_points_are_box_centres_in_percent_sorted_left_to_right():
    result = count_objects([box(150, 50), box(50, 25)], [0.9, 0.8], ["person", "person"], W, H)
    assert result.label == "person" and result.count == 2
    assert result.xs == [25.0, 75.0] and result.ys == [25.0, 50.0]
    assert result.scores == [0.8, 0.9]  # follow the points
    assert result.boxes[0] == box(50, 25)


def test_duplicates_across_classes_of_one_meaning_are_merged():
    # The embedded detector reports one person as both Normal and Fall: both map to "person".
    boxes = [box(50, 50), box(52, 51), box(150, 50)]
    result = count_objects(boxes, [0.9, 0.6, 0.7], ["person"] * 3, W, H)
    assert result.count == 2 and sorted(result.scores) == [0.7, 0.9]
    assert merge_duplicates(boxes, [0.9, 0.6, 0.7], 0.5) == [0, 2]


def test_the_most_frequent_class_wins_and_ties_are_rejected():
    boxes = [box(20, 50), box(60, 50), box(100, 50), box(160, 50)]
    result = count_objects(boxes, [0.9] * 4, ["cup", "cup", "cup", "dog"], W, H)
    assert (result.label, result.count, result.per_label) == ("cup", 3, {"cup": 3, "dog": 1})
    assert "tie" in reason_of(boxes, [0.9] * 4, ["cup", "cup", "dog", "dog"])


def test_low_scores_are_ignored_but_near_threshold_ones_make_the_image_ambiguous():
    config = CountConfig(min_score=0.5, ambiguity_margin=0.1)
    boxes = [box(20, 50), box(80, 50), box(150, 50)]
    result = count_objects(boxes, [0.9, 0.8, 0.3], ["cat"] * 3, W, H, config)  # 0.3 is noise
    assert result.count == 2
    assert reason_of(boxes, [0.9, 0.8, 0.45], ["cat"] * 3, config).startswith("ambiguous: 1 cat")
    # An uncertain box that overlaps a confident one is the same object, not a doubt.
    overlapping = [box(20, 50), box(21, 50), box(150, 50)]
    assert count_objects(overlapping, [0.9, 0.45, 0.8], ["cat"] * 3, W, H, config).count == 2


def test_too_many_is_rejected_or_capped():
    boxes = [box(10 + 15 * i, 50, 10) for i in range(12)]
    scores = [0.5 + 0.01 * i for i in range(12)]
    assert reason_of(boxes, scores, ["bird"] * 12).startswith("too many: 12 bird")
    capped = count_objects(boxes, scores, ["bird"] * 12, W, H, CountConfig(too_many="cap"))
    assert capped.count == 10 and capped.capped_from == 12 and min(capped.scores) == pytest.approx(0.52)


def test_zero_objects_keep_or_reject():
    result = count_objects([], [], [], W, H)
    assert (result.label, result.count, result.xs) == ("person", 0, [])
    assert "nothing detected" in reason_of([], [], [], CountConfig(zero="reject"))
    assert reason_of([box(50, 50)], [0.25], ["person"]).startswith("ambiguous")


def test_config_checks():
    assert CountConfig().validate() == []
    problems = CountConfig(min_score=0.2, ambiguity_margin=0.3, max_count=0, too_many="guess").validate()
    assert len(problems) == 3


def test_plural_for_questions():
    assert [plural(n) for n in ("person", "bus", "wine glass", "skis", "knife", "teddy bear", "toothbrush")] == [
        "people",
        "buses",
        "wine glasses",
        "skis",
        "knives",
        "teddy bears",
        "toothbrushes",
    ]
    assert plural("sports ball") == "sports balls" and plural("tv") == "tvs" and plural("butterfly") == "butterflies"


def test_qa_uses_the_shared_point_format():
    qa = count_qa("people", [75.0, 25.0], [50.0, 25.0])
    assert qa.question == "How many people are there?"
    assert qa.answer == point_count_answer({"x": [75.0, 25.0], "y": [50.0, 25.0]}, "people")
    assert qa.answer == (
        'Counting the <points x1="25.0" y1="25.0" x2="75.0" y2="50.0" alt="people">people</points> shows a total of 2.'
    )
    assert qa.question_count_only == "No pointing: How many people are there?" and qa.answer_count_only == "2"
    none = count_qa("people", [], [])
    assert none.answer == "There are none." and none.answer_count_only == "0"
