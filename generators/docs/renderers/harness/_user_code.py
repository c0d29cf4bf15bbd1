"""Run the LLM's main.py in this (sandboxed) interpreter and report a failure so a repair can act on it.

The last stderr line of a failed run is the sandbox's reason, so it is written as one line naming the
exception and the line of the user's code it came from: "ValueError: x and y differ (line 5: plt.plot(x, y))".
"""

import builtins
import hashlib
import random
import sys
import traceback
from collections.abc import Callable

USER_FILE = "main.py"


def _seed_from(source: str) -> None:
    """Jobs fork from one warm interpreter, so unseeded random numbers would repeat across jobs; seed them
    from the code instead: different programs differ, and the same program draws the same chart every run."""
    seed = int.from_bytes(hashlib.sha256(source.encode()).digest()[:4], "big")
    random.seed(seed)
    if "numpy.random" in sys.modules:  # never import it here: numpy loads it lazily, and that takes a while
        sys.modules["numpy.random"].seed(seed)


def exec_main(path: str = USER_FILE) -> dict:
    """Execute the script as __main__ and return its globals."""
    with open(path, encoding="utf-8", errors="replace") as f:
        source = f.read()
    _seed_from(source)
    code = compile(source, path, "exec")
    namespace = {"__name__": "__main__", "__file__": path, "__builtins__": builtins}
    exec(code, namespace)
    return namespace


def _one_line(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_failure(exc: BaseException, path: str = USER_FILE) -> str:
    """'Type: message (line N: code)' with the deepest line of the user's own file, when there is one."""
    lineno, line = None, None
    message = str(exc)
    if isinstance(exc, SyntaxError) and exc.filename == path:
        lineno, line, message = exc.lineno, exc.text, exc.msg
    else:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
        if frames:
            lineno, line = frames[-1].lineno, frames[-1].line
    text = type(exc).__name__ + (f": {_one_line(message, 180)}" if message.strip() else "")
    if lineno:
        text += f" (line {lineno}: {_one_line(line or '', 80)})"
    return text


def print_failure(exc: BaseException, path: str = USER_FILE) -> None:
    """The traceback from the user's first frame on (harness frames are noise), then the one-line summary."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != path:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb or exc.__traceback__, file=sys.stderr)
    print(describe_failure(exc, path), file=sys.stderr)


def run(body: Callable[[], None]) -> int:
    """Run body() (which executes main.py); return the process exit code. Never raises."""
    code = 0
    try:
        body()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if code:
            print(f"SystemExit: {e.code}", file=sys.stderr)
    except BaseException as e:  # the user's code can raise anything; all of it is a failed render
        print_failure(e)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    return code
