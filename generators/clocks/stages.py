"""Where a sample's time goes: an optional stopwatch that the generator reads between its stages."""

import time
from collections import Counter


class StageTimes:
    """CPU seconds and calls per stage; `lap(stage)` charges the time since the previous lap (or `start`)."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._last = time.process_time()

    def start(self) -> None:
        self._last = time.process_time()

    def lap(self, stage: str) -> None:
        now = time.process_time()
        self.seconds[stage] += now - self._last
        self.calls[stage] += 1
        self._last = now


def no_lap(stage: str) -> None:
    """The stopwatch when nobody is profiling."""
