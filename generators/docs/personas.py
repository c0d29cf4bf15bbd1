"""The shipped persona list (data/personas.txt): who the document is for, as in CoSyn's persona-driven prompts."""

import functools
from importlib import resources


@functools.cache
def load_personas() -> tuple[str, ...]:
    """Every persona, one line each, in file order (comments and blank lines dropped)."""
    text = resources.files("generators.docs").joinpath("data/personas.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))
