"""The script every local SDK worker process runs: Beam's own worker, with a cheaper start and a fast exit.

Beam's local multi-process runner would start each worker as `python -m apache_beam.runners.worker.sdk_worker_main`;
each spends ~2.5 s of CPU importing apache_beam before it takes any work, and on two cores two workers hold the
run up that long. This script imports the same worker module the cheaper way and hands over to Beam's own
`main` (see process_gc.py). `options.local_batch_runner` starts workers with `worker_command()`.
"""

import os
import shlex
import sys

# Run by its path, so a worker imports the very tree the driver runs (not whatever `pipelines` the working
# directory or an install holds). The same as `version.REPO_ROOT`, computed here because this script must put it
# on the path before it can import anything of ours.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def worker_command() -> str:
    """The shell command that starts one local SDK worker process."""
    return f"{shlex.quote(sys.executable)} {shlex.quote(os.path.abspath(__file__))}"


def main() -> None:
    from pipelines.common.process_gc import exit_without_final_gc, imports_without_gc

    exit_without_final_gc()
    with imports_without_gc():
        from apache_beam.runners.worker import sdk_worker_main
    sdk_worker_main.main(sys.argv)


if __name__ == "__main__":
    sys.path[0] = REPO_ROOT  # not this script's folder, whose modules would shadow top-level ones by name
    main()
