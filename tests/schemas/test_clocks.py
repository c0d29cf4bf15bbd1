import pyarrow as pa

from schemas import clocks
from schemas.common import image_value, provenance, sha256_hex


def _row(**overrides):
    h, m, s = 15, 2, 30
    hour_angle, minute_angle, second_angle = clocks.expected_angles(h, m, s)
    image = b"\xff\xd8fake-jpeg-bytes"
    kwargs = dict(
        example_id="clocks-s0-000000001",
        image=image_value(image, "a.jpg"),
        image_sha256=sha256_hex(image),
        source="generator:clocks",
        watchface_id="f1",
        watchface_name="steel",
        hour=h,
        minute=m,
        second=s,
        shows_seconds=True,
        hour_visible=True,
        minute_visible=True,
        second_visible=True,
        hour_angle=hour_angle,
        minute_angle=minute_angle,
        second_angle=second_angle,
        body_id=3,
        body_name="round",
        face_features="{}",
        width=448,
        height=448,
        question="What time is it?",
        provenance=provenance("clocks", "v", clocks.SCHEMA_VERSION, 0),
    )
    kwargs.update(overrides)
    return clocks.build_row(**kwargs)


def test_a_good_row_validates_and_says_the_time_like_molmo():
    row = _row()
    assert clocks.validate(row) == []
    assert row["text"] == "The time shown is 3:02 PM"
    assert row["watch_time"] == "15:02:30"


def test_hands_must_show_the_time():
    # An hour hand that ignores the minutes (a classic generator bug) is rejected.
    assert any("hour_angle" in p for p in clocks.validate(_row(hour_angle=90.0)))
    assert any("minute_angle" in p for p in clocks.validate(_row(minute_angle=12.0)))


def test_image_hash_and_second_hand_consistency():
    assert "image_sha256 does not match the image bytes" in clocks.validate(_row(image_sha256="0" * 64))
    assert any("second_visible" in p for p in clocks.validate(_row(shows_seconds=False)))


def test_expected_angles_at_known_times():
    assert clocks.expected_angles(0, 0, 0) == (0.0, 0.0, 0.0)
    assert clocks.expected_angles(12, 30, 0) == (15.0, 180.0, 0.0)
    assert clocks.expected_angles(9, 59, 60 - 1)[1] == 6 * 59 + 5.9


def test_shard_validation_finds_the_same_problems_as_row_validation():
    """validate_table (a whole shard at once) must reject exactly the rows validate rejects, with the same words."""
    bad = {
        1: _row(example_id="clocks-s0-000000002", hour_angle=90.0),  # hour hand ignoring the minutes
        2: _row(example_id="clocks-s0-000000003", minute_angle=float("nan")),
        3: _row(example_id="clocks-s0-000000004", shows_seconds=False),
        4: dict(_row(example_id="clocks-s0-000000005"), hour=24),
        6: _row(example_id="clocks-s0-000000007", question="  ", width=0),
    }
    rows = [bad.get(i, _row(example_id=f"clocks-s0-{i + 1:09d}")) for i in range(8)]
    rows[5]["answer"] = "The time shown is 4:02 PM"
    rows[7]["watch_time"] = "15:02:31"
    rows[7]["text"] = "The time shown is 3:03 PM"
    table = pa.Table.from_pylist(rows, schema=clocks.SCHEMA)
    by_row = {i: clocks.validate(row) for i, row in enumerate(rows) if clocks.validate(row)}
    assert sorted(by_row) == [1, 2, 3, 4, 5, 6, 7]
    assert clocks.validate_table(table) == by_row


def test_shard_validation_checks_the_image_hash_and_nulls():
    wrong_hash = pa.Table.from_pylist([_row(image_sha256="0" * 64), _row()], schema=clocks.SCHEMA)
    assert clocks.validate_table(wrong_hash) == {0: ["image_sha256 does not match the image bytes"]}
    no_bytes = _row()
    no_bytes["image"] = image_value(b"", "a.jpg")
    assert clocks.validate_table(pa.Table.from_pylist([_row(), no_bytes], schema=clocks.SCHEMA)) == {
        1: ["image: no bytes"]
    }
    missing = _row()
    missing["watchface_name"] = None
    assert clocks.validate_table(pa.Table.from_pylist([missing], schema=clocks.SCHEMA)) == {
        0: ["watchface_name: must not be null"]
    }
    assert clocks.validate_table(pa.Table.from_pylist([_row()], schema=clocks.SCHEMA)) == {}
