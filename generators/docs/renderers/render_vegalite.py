"""Vega-Lite: the LLM writes a JSON spec with inline data; vl-convert renders it inside the sandbox.

The spec is data, but Vega can still be asked to fetch URLs or build huge datasets, so specs with a "url"
are rejected up front, vl-convert gets no allowed base URL, and the conversion itself runs in the sandbox
(time, memory and no network).
"""

from __future__ import annotations

import json
import re
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


# Vega-Lite's mark types; anything else fails deep inside the compiler with "Cannot read properties of undefined".
MARKS = {
    "arc", "area", "bar", "boxplot", "circle", "errorband", "errorbar", "geoshape", "image", "line", "point",
    "rect", "rule", "square", "text", "tick", "trail",
}  # fmt: skip


def _marks(spec: dict) -> list[str]:
    """Every mark type named in the spec, its layers and its concatenated or faceted views."""
    found = []
    mark = spec.get("mark")
    kind = mark.get("type") if isinstance(mark, dict) else mark
    if isinstance(kind, str):
        found.append(kind)
    for key in ("layer", "concat", "hconcat", "vconcat"):
        for view in spec.get(key) or []:
            if isinstance(view, dict):
                found += _marks(view)
    if isinstance(spec.get("spec"), dict):
        found += _marks(spec["spec"])
    return found


def vegalite_error(stderr: str) -> str:
    """The compiler's own message ('Error: Access path missing closing quote: Kids' club'), without the
    JavaScript stack under it (whose lines name CDN URLs, which tell a model nothing)."""
    lines = [line.strip() for line in stderr.splitlines()]
    for i, line in enumerate(lines):
        if "conversion failed" in line:
            message = [m for m in lines[i + 1 :] if m and not m.startswith("at ")][:1]
            if message:
                return re.sub(r"^Error:\s*", "", message[0])
            return line.split(":", 1)[-1].strip() or line
    errors = [line for line in lines if re.match(r"^\w*(Error|Exception)\b", line)]
    return errors[-1] if errors else ""


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
    unknown = [m for m in _marks(spec) if m not in MARKS]
    if unknown:
        raise RenderError(f"unknown mark type {unknown[0]!r}: use one of {', '.join(sorted(MARKS))}")
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
        if not res.ok and res.reason.startswith(("exception", "exit code")):
            message = vegalite_error(res.stderr)
            if message:
                raise RenderError(f"Vega-Lite error: {message}")
        return raise_for(res, "output.png")
