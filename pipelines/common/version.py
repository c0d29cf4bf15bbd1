"""The code version stamped on every row and manifest: package version plus git commit when known."""

import functools
import os
import subprocess
from importlib import metadata

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@functools.cache
def code_version() -> str:
    try:
        version = metadata.version("pixmo-pipeline")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    commit = _git(["rev-parse", "--short=12", "HEAD"])
    if not commit:
        return version
    dirty = _git(["status", "--porcelain", "--untracked-files=no"])
    return f"{version}+g{commit}{'.dirty' if dirty else ''}"


def _git(args: list[str]) -> str:
    try:
        out = subprocess.run(["git", "-C", REPO_ROOT, *args], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()
