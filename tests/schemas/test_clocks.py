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
