"""The time shown by a sample and the exact hand angles for it."""

from dataclasses import dataclass

from .randomness import TIME_STREAM, stream

SECONDS_PER_DAY = 24 * 60 * 60


@dataclass(frozen=True)
class ClockTime:
    hour: int  # 0-23
    minute: int
    second: int

    @property
    def hour_angle(self) -> float:
        """Degrees clockwise from 12; the hour hand advances with minutes and seconds."""
        return 30.0 * (self.hour % 12) + 0.5 * self.minute + self.second / 120.0

    @property
    def minute_angle(self) -> float:
        """Degrees clockwise from 12; the minute hand advances with seconds."""
        return 6.0 * self.minute + 0.1 * self.second

    @property
    def second_angle(self) -> float:
        return 6.0 * self.second


def sample_time(seed: int, index: int) -> ClockTime:
    """Uniform over the 86,400 seconds of a day; its own stream so it is cheap to check without rendering."""
    total = int(stream(seed, TIME_STREAM, index).integers(SECONDS_PER_DAY))
    return ClockTime(hour=total // 3600, minute=(total // 60) % 60, second=total % 60)
