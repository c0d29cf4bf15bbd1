import hashlib

from schemas import points
from schemas.common import image_value, provenance


def row(**changes):
    data = b"\xff\xd8fake"
    values = dict(
        example_id="points-1", image=image_value(data, "points-1.jpg"), image_sha256=hashlib.sha256(data).hexdigest(),
        source="file", image_url="images/a.jpg", points=[{"x": 1.0, "y": 99.5}], count=1, label="cup",
        collection_method="pointing", explanation="", not_present=False, record_id="r1", annotator="a",
        created_at="", width=10, height=20, provenance=provenance("points", "v", points.SCHEMA_VERSION, 0),
    )  # fmt: skip
    values.update(changes)
    return points.build_row(**values)


def test_a_good_row_and_a_not_present_row_validate():
    assert points.validate(row()) == []
    assert points.validate(row(points=[], count=0, not_present=True)) == []


def test_problems():
    assert points.validate(row(count=2)) == ["count 2 but 1 points"]
    assert "not_present but has points" in points.validate(row(not_present=True))
    assert "no points but not marked not_present" in points.validate(row(points=[], count=0))
    assert any("outside 0-100" in p for p in points.validate(row(points=[{"x": 101.0, "y": 1.0}])))
    assert "label is empty" in points.validate(row(label=" "))
    assert any("collection_method" in p for p in points.validate(row(collection_method="guessing")))
    assert any("missing column" in p for p in points.validate({"example_id": "x"}))
