import pytest

from annotation.exports import Point, PointsRecord
from annotation.points.records import points_problems


def rec(points=((10, 20),), not_present=False, label="cup", **extra):
    return PointsRecord("r1", "images/a.jpg", label, [Point(x, y) for x, y in points], not_present, **extra)


def test_good_records_have_no_problems():
    assert points_problems(rec()) == []
    assert points_problems(rec(points=(), not_present=True)) == []
    assert points_problems(rec(points=((0, 0), (100, 100)))) == []


@pytest.mark.parametrize(
    "record, problem",
    [
        (rec(label="  "), "empty label"),
        (rec(points=((100.5, 3),)), "point 0 = (100.5, 3) is outside 0-100"),
        (rec(points=((5, -1),)), "outside 0-100"),
        (rec(points=((float("nan"), 3),)), "outside 0-100"),
        (rec(points=(("5", 3),)), "must be numbers"),
        (rec(not_present=True), "marked not present but has 1 points"),
        (rec(points=()), "no points, and not marked not present"),
        (rec(not_present="no"), "not_present must be true or false"),
        (PointsRecord("", "", "cup", [Point(1, 1)], False), "empty record_id"),
    ],
)
def test_problems_in_words(record, problem):
    assert any(problem in p for p in points_problems(record)), points_problems(record)
