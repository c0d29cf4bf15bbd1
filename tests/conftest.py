"""Fixtures shared by every test folder: the embedded SmolLM2 loaded once per session, and our OpenAI-compatible
server on a free local port. Both use one torch thread: the test machine is shared, and all-core thread pools
under contention are several times slower than one thread. The first run ever dequantises the GGUF (~30 s) into the
cache (PIXMO_LLM_CACHE, default ~/.cache/pixmo-pipeline/llm); later runs load in about a second."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.llm.config import LLMConfig
from inference.llm.transformers_backend import TransformersBackend

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def local_llm() -> TransformersBackend:
    backend = TransformersBackend(LLMConfig(batch_size=8, cpu_threads=1))
    backend.load()
    return backend


@pytest.fixture(scope="session")
def served_url() -> Iterator[str]:
    """`python -m inference.llm.serve --port 0` as a real subprocess; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "inference.llm.serve", "--port", "0", "--batch-size", "8", "--cpu-threads", "1"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 300  # a guard against a hung start, not a timing check
    try:
        while not any(line.startswith("serving ") for line in lines):
            if process.poll() is not None:
                raise RuntimeError(f"inference.llm.serve exited with {process.returncode}: {lines}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"inference.llm.serve did not start: {lines}")
            reader.join(timeout=0.2)
        line = next(line for line in lines if line.startswith("serving "))
        yield line.split(" on ", 1)[1].strip()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
