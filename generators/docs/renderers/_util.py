"""Small helpers shared by the sandbox-based renderers."""

from __future__ import annotations

from generators.docs.renderers.base import RenderError
from generators.docs.sandbox import Limits, SandboxResult


def limits_for(timeout_s: float, memory_bytes: int = 2 << 30) -> Limits:
    """Sandbox limits for one render: CPU time may not exceed the wall-clock budget."""
    return Limits(wall_s=timeout_s, cpu_s=max(1, int(timeout_s)), memory_bytes=memory_bytes)


def raise_for(res: SandboxResult, output: str, missing: str = "") -> bytes:
    """The collected `output` file, or a RenderError saying why the sandboxed program did not make it."""
    if not res.ok:
        raise RenderError(res.reason)
    data = res.outputs.get(output)
    if not data:
        raise RenderError(missing or f"no image produced: the code did not write {output}")
    return data
