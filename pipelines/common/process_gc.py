"""How our long-lived processes (the CLI, each local Beam worker) use CPython's garbage collector.

Two costs that have nothing to do with the data, both measured on a 2-core machine with Beam loaded:
- Importing apache_beam leaves ~320,000 objects the collector tracks (its IO connectors, the Google clients,
  pandas) and frees almost none, yet the collector walks them again and again while the import runs: ~0.3-0.6 s
  of a worker's 2.5 s import. `imports_without_gc` imports with the collector off, then freezes what the
  imports built, so later collections (during the shard work too) skip that heap.
- At exit the interpreter walks the whole heap once more (~0.8 s), and Beam's local runner stops its worker
  processes one after another: two workers kept each run waiting 1.5-2 s after its last shard.
  `exit_without_final_gc` freezes the heap in an exit handler first.
What freezing gives up: objects caught in reference cycles among the frozen ones are never collected, and at exit
are not finalized, which CPython never promised (files are closed by their `with` blocks, shards are written
atomically before their stats file marks them done). Objects freed by reference counting are freed as always.
"""

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def imports_without_gc() -> Iterator[None]:
    """Run the imports in the block with the collector off, then freeze what they built."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def exit_without_final_gc() -> None:
    """Freeze the heap when the process exits. Call it early: exit handlers run last-registered first, so the
    ones registered later (gRPC, logging) still run before the freeze."""
    atexit.register(gc.freeze)
