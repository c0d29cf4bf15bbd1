"""A local run fails at once when one of its worker processes dies, instead of waiting for it forever.

Beam's local multi-process runner starts each SDK worker from a thread that waits on the process; when the process
ends with an error (the out-of-memory killer, a crash in native code, `os._exit`), that thread raises
"Worker subprocess exited with return code N" and ends, and nothing else notices: the runner keeps waiting for the
bundle the dead worker held, and the run hangs with no message (measured with Beam 2.77: a worker that exits
mid-bundle leaves the driver waiting past any limit). `fail_when_a_worker_dies` catches that thread's exception
and interrupts the driver's main thread with `LocalWorkerDied`. Beam's own clean-up then stops the other
workers, and the run ends like any failed run: nothing published, finished shards kept for a resume.
"""

import contextlib
import signal
import threading
from collections.abc import Iterator

_WORKER_THREAD = "run_worker"  # Beam's name for the thread that runs one SDK worker process
_EXITED = "Worker subprocess exited with return code"
_SIGNAL = signal.SIGUSR1  # sent to this process's main thread only, while a local run is in progress


class LocalWorkerDied(RuntimeError):
    """A local SDK worker process ended with an error while the run needed it."""


def describe(beam_message: str) -> str:
    code = beam_message.rsplit(" ", 1)[-1]
    why = ""
    if code.isdigit() and int(code) > 128:  # through the shell: 128 + the signal that ended the process
        number = int(code) - 128
        name = signal.Signals(number).name if number in signal.valid_signals() else f"signal {number}"
        why = f", killed by {name}" + (" (the out-of-memory killer sends it)" if number == signal.SIGKILL else "")
    return (
        f"a local Beam worker process died ({beam_message}{why}). Nothing was published; the shards finished before "
        "it died are kept in the staging folder, and the same command resumes from them. A worker that runs out of "
        "memory: fewer --workers, or smaller batches."
    )


@contextlib.contextmanager
def fail_when_a_worker_dies() -> Iterator[None]:
    """While the block runs (on the main thread), a dead local worker raises `LocalWorkerDied` in it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread; elsewhere Beam's own behaviour stands
        return
    died: list[str] = []
    main = threading.main_thread().ident
    previous_hook = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        thread = args.thread
        if thread is not None and thread.name == _WORKER_THREAD and str(args.exc_value).startswith(_EXITED):
            died.append(str(args.exc_value))
            signal.pthread_kill(main, _SIGNAL)
            return
        previous_hook(args)

    def on_signal(signum: int, frame: object) -> None:
        if died:
            raise LocalWorkerDied(describe(died[0]))

    previous_handler = signal.signal(_SIGNAL, on_signal)
    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous_hook
        signal.signal(_SIGNAL, previous_handler)
