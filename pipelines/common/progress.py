"""Progress of a run: workers write small per-shard counters, the driver sums and prints them.

The local runners run workers in other processes, so the counters live in files under the staging folder
(`_progress/`), written at most once a second. Remote runners have their own UI; there the driver is quiet.
"""

import json
import os
import sys
import threading
import time
from typing import TextIO

from pipelines.common.shards import write_bytes_atomically


class ProgressWriter:
    """Worker side: the running count of one shard task, flushed at most every `interval_s`."""

    def __init__(self, path: str, total: int, interval_s: float = 1.0) -> None:
        self.path = path
        self.total = total
        self.done = 0
        self.interval_s = interval_s
        self._last_flush = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last_flush >= self.interval_s:
            self.flush()
            self._last_flush = now

    def flush(self) -> None:
        write_bytes_atomically(self.path, json.dumps({"done": self.done, "total": self.total}).encode())


def read_done(progress_dir: str) -> int:
    """Sum of the counters in a local progress folder (missing or half-written files count as 0)."""
    done = 0
    try:
        names = os.listdir(progress_dir)
    except FileNotFoundError:
        return 0
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(progress_dir, name)) as handle:
                done += int(json.load(handle)["done"])
        except (OSError, ValueError, KeyError):
            continue
    return done


def format_line(label: str, done: int, total: int, elapsed_s: float) -> str:
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    pct = 100.0 * done / total if total else 100.0
    eta = f"{(total - done) / rate:.0f}s" if rate > 0 and done < total else "-"
    return f"{label}: {done}/{total} examples ({pct:.0f}%), {rate:.1f} ex/s, {elapsed_s:.0f}s elapsed, ETA {eta}"


class ProgressMonitor:
    """Driver side: a thread that prints the summed counters while the pipeline runs."""

    def __init__(
        self, progress_dir: str, total: int, label: str, stream: TextIO = sys.stderr, interval_s: float = 2.0
    ) -> None:
        self.progress_dir = progress_dir
        self.total = total
        self.label = label
        self.stream = stream
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._start = time.monotonic()
        self._tty = hasattr(stream, "isatty") and stream.isatty()
        self.log_interval_s = 5.0

    def __enter__(self) -> "ProgressMonitor":
        self._start = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if not self._tty:  # a log ends with where the run got to
            done = read_done(self.progress_dir)
            self.stream.write(format_line(self.label, done, self.total, time.monotonic() - self._start) + "\n")
            self.stream.flush()

    def _run(self) -> None:
        last_printed = ""
        last_time = 0.0
        while not self._stop.wait(self.interval_s):
            line = format_line(self.label, read_done(self.progress_dir), self.total, time.monotonic() - self._start)
            if self._tty:
                self.stream.write("\r" + line + "   ")
                self.stream.flush()
            elif line != last_printed and time.monotonic() - last_time >= self.log_interval_s:
                # Logs (CI, nohup, a pipe) get a plain line every few seconds instead of a redrawn one.
                self.stream.write(line + "\n")
                self.stream.flush()
                last_printed, last_time = line, time.monotonic()
        if self._tty:
            self.stream.write("\n")
