"""worker_watch: a local run whose worker process dies fails at once with a reason, instead of hanging."""

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from pipelines.common.worker_watch import describe, fail_when_a_worker_dies

REPO = Path(__file__).resolve().parents[3]

# Two local runs of one worker each: a DoFn that raises (Beam's own error, as before), then one whose worker
# process ends as the out-of-memory killer would end it (the run used to wait for it forever).
SCRIPT = textwrap.dedent(
    """
    import apache_beam as beam
    from pipelines.common.options import new_pipeline, pipeline_options

    def fails(x):
        raise ValueError("planted")

    def dies(x):
        import os
        os._exit(137)

    for step in (fails, dies):
        options, runner = pipeline_options([], workers=1)
        try:
            with new_pipeline(options, runner) as pipeline:
                pipeline | beam.Create([1, 2]) | beam.Map(step)
        except Exception as error:
            print("RESULT", step.__name__, type(error).__name__, "planted" in str(error), str(error).splitlines()[0])
    """
)


def test_a_dead_worker_fails_the_run_and_a_failing_step_keeps_beams_error():
    # In a process of its own, with a time limit: if the watch broke, the run would hang, not fail.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=180, check=True
    )
    results = [line.split(" ", 4)[1:] for line in done.stdout.splitlines() if line.startswith("RESULT")]
    assert [r[:3] for r in results] == [["fails", "RuntimeError", "True"], ["dies", "LocalWorkerDied", "False"]]
    reason = results[1][3]
    assert "return code 137, killed by SIGKILL (the out-of-memory killer sends it)" in reason
    assert "Nothing was published" in reason and "resumes" in reason


def test_the_reason_names_a_signal_only_when_the_code_is_one():
    assert "killed" not in describe("Worker subprocess exited with return code 3")
    assert "killed by SIGSEGV" in describe("Worker subprocess exited with return code 139")


def test_off_the_main_thread_it_changes_nothing():
    seen = []

    def run():
        before = threading.excepthook
        with fail_when_a_worker_dies():
            seen.append(threading.excepthook is before)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [True]
