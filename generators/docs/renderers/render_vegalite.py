"""Vega-Lite: the LLM writes a JSON spec with inline data; vl-convert renders it inside the sandbox.

The spec is data, but Vega can still be asked to fetch URLs or build huge datasets, so specs with a "url"
are rejected up front, vl-convert gets no allowed base URL, and the conversion itself runs in the sandbox
(time, memory and no network).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generators.docs.renderers._util import raise_for
from generators.docs.renderers.base import Renderer, RenderError
from generators.docs.sandbox import Limits, run_python

HARNESS = Path(__file__).with_name("harness") / "vegalite_harness.py"
MAX_SPEC_BYTES = 2 << 20

CODE_INSTRUCTIONS = (
    "Write one complete Vega-Lite v5 JSON specification (just the JSON object). Put all data inline under "
    '"data": {"values": [...]}; never use "url" data or external images. Set "width" and "height".'
)


def find_urls(node: Any, path: str = "$") -> list[str]:
    """JSON paths of every "url" key (data.url, lookup data, the image mark's url channel)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "url":
                found.append(f"{path}.url")
            found += find_urls(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += find_urls(value, f"{path}[{i}]")
    return found


def parse_spec(code: str) -> dict:
    """The spec as a dict, or RenderError if it is not JSON, not an object, too big or refers to URLs."""
    if len(code) > MAX_SPEC_BYTES:
        raise RenderError(f"spec too large ({len(code)} bytes)")
    text = code.strip()
    if text.startswith("```"):  # LLMs like fencing JSON; accept ```json ... ```
        text = text.split("\n", 1)[-1].rsplit("```", 1)[0]
    try:
        spec = json.loads(text)
    except ValueError as e:
        raise RenderError(f"spec is not valid JSON: {e}") from e
    if not isinstance(spec, dict):
        raise RenderError("spec must be a JSON object")
    urls = find_urls(spec)
    if urls:
        raise RenderError(f"remote data is not allowed: spec refers to a URL at {', '.join(urls[:3])}")
    return spec


class VegaLiteRenderer(Renderer):
    name = "vegalite"
    kind = "charts"
    CODE_INSTRUCTIONS = CODE_INSTRUCTIONS

    def _render(self, code: str, timeout_s: float) -> bytes:
        spec = parse_spec(code)
        limits = Limits(
            wall_s=timeout_s, cpu_s=max(1, int(timeout_s)), memory_bytes=2 << 30, address_space_bytes=1 << 40
        )
        res = run_python(
            "", harness=HARNESS, files={"spec.json": json.dumps(spec)}, collect=["output.png"], limits=limits
        )
        return raise_for(res, "output.png")
