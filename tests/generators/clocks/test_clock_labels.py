import io
import math

import numpy as np
import pytest
from PIL import Image

from generators.clocks import ClockConfig, ClockGenerator, ClockTime, sample_time

SIZE = 448
HAND_COLOURS = {"hour": (255, 0, 0), "minute": (0, 255, 0), "second": (0, 0, 255)}


def test_angle_formulas():
    t = ClockTime(hour=15, minute=50, second=30)
    assert t.hour_angle == pytest.approx(90 + 25 + 0.25)
    assert t.minute_angle == pytest.approx(300 + 3)
    assert t.second_angle == pytest.approx(180)
    assert ClockTime(0, 0, 0).hour_angle == 0.0
    assert ClockTime(12, 0, 0).hour_angle == 0.0


def _angle_gap(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def _measured_angle(pixels: np.ndarray, rgb: tuple[int, int, int]) -> tuple[float, int]:
    """Direction (clockwise from 12) from the pivot to the centroid of the pixels of exactly one colour."""
    ys, xs = np.nonzero(np.all(pixels == rgb, axis=-1))
    centre = (SIZE - 1) / 2
    dx, dy = (xs - centre).mean(), (ys - centre).mean()
    return math.degrees(math.atan2(dx, -dy)) % 360, len(xs)


def test_drawn_hands_point_at_the_labelled_angles():
    """Hands drawn in pure colours on a plain face must lie along the label's angles, including the hour
    hand's advance with the minutes (up to 30 degrees), which a 30*h hour hand would miss."""
    generator = ClockGenerator(ClockConfig(image_size=SIZE, image_format="png", debug_hand_colours=True))
    checked, advanced = 0, 0
    for index in range(0, 16 * 40, 13):
        sample = generator.generate(11, index)
        angles = {"hour": sample.hour_angle, "minute": sample.minute_angle, "second": sample.second_angle}
        # Skip samples where hands overlap: a covered hand has too few visible pixels to measure.
        if min(_angle_gap(a, b) for a in angles.values() for b in angles.values() if a is not b) < 15:
            continue
        pixels = np.asarray(Image.open(io.BytesIO(sample.image_bytes)).convert("RGB"))
        for hand, rgb in HAND_COLOURS.items():
            measured, count = _measured_angle(pixels, rgb)
            assert count > 30, (index, hand)
            assert _angle_gap(measured, angles[hand]) < 3.0, (index, hand, measured, angles[hand])
        checked += 1
        if _angle_gap(sample.hour_angle, 30 * (sample.hour % 12)) > 10:
            advanced += 1
    assert checked >= 20
    assert advanced >= 10  # enough samples where an hour hand stuck on the hour would be caught


def test_times_cover_the_day_uniformly():
    count = 48_000
    times = [sample_time(0, index) for index in range(count)]
    hours = np.bincount([t.hour for t in times], minlength=24)
    minutes = np.bincount([t.minute for t in times], minlength=60)
    seconds = np.bincount([t.second for t in times], minlength=60)
    assert len(hours) == 24 and len(minutes) == 60 and len(seconds) == 60
    for counts in (hours, minutes, seconds):
        expected = count / len(counts)
        assert np.all(np.abs(counts - expected) < 0.2 * expected)
    assert len({(t.hour, t.minute, t.second) for t in times}) > 0.55 * count  # second resolution, not coarse steps


def test_labels_match_the_time_stream():
    generator = ClockGenerator(ClockConfig(image_size=96))
    for index in (0, 1, 99, 12345):
        sample = generator.generate(4, index)
        t = sample_time(4, index)
        assert (sample.hour, sample.minute, sample.second) == (t.hour, t.minute, t.second)
        assert sample.hour_angle == t.hour_angle and sample.minute_angle == t.minute_angle
