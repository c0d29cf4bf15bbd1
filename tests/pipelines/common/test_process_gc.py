"""process_gc: imports without collections, exit without the final passes; and the local worker script that
uses both in every local Beam worker process."""

import gc
import os
import subprocess
import sys

import apache_beam as beam
from apache_beam.testing.util import assert_that

from pipelines.common.local_worker import worker_command
from pipelines.common.options import new_pipeline, pipeline_options
from pipelines.common.process_gc import imports_without_gc


def test_imports_without_gc_turn_it_off_then_freeze_and_restore_it():
    code = (
        "import gc\n"
        "from pipelines.common.process_gc import imports_without_gc\n"
        "with imports_without_gc():\n"
        "    inside = gc.isenabled()\n"
        "    import json, decimal\n"
        "print(inside, gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False", "True", "True"], done.stderr


def test_imports_without_gc_leave_a_disabled_collector_disabled():
    was = gc.isenabled()
    gc.disable()
    try:
        with imports_without_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.unfreeze()  # this test process keeps collecting what it made before
        if was:
            gc.enable()


def test_exit_without_final_gc_freezes_the_heap_at_exit():
    code = (
        "import atexit, gc\n"
        "from pipelines.common.process_gc import exit_without_final_gc\n"
        "exit_without_final_gc()\n"
        "before = gc.get_freeze_count(); atexit._run_exitfuncs(); print(before, gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["0", "True"], done.stderr


def test_the_worker_command_runs_the_script_of_this_tree():
    command = worker_command()
    assert command.startswith(sys.executable)
    assert command.endswith(os.path.join("pipelines", "common", "local_worker.py"))


def _in_worker(_):
    import gc
    import os
    import sys

    main = sys.modules["__main__"]
    return os.getpid(), os.path.basename(getattr(main, "__file__", "")), gc.get_freeze_count() > 0, gc.isenabled()


def test_a_local_worker_process_starts_through_the_script():
    options, runner = pipeline_options([], workers=1)  # one SDK worker process, started by Beam
    here = os.getpid()

    def check(seen):
        assert len(seen) == 1, seen
        pid, script, frozen, collecting = seen[0]
        assert pid != here and script == "local_worker.py" and frozen and collecting, seen

    with new_pipeline(options, runner) as pipeline:
        assert_that(pipeline | beam.Create([0]) | beam.Map(_in_worker), check)


def test_the_local_runner_swaps_only_a_subprocess_workers_command():
    from apache_beam.transforms.environments import EmbeddedPythonGrpcEnvironment, SubprocessSDKEnvironment

    from pipelines.common.options import local_batch_runner

    options, _ = pipeline_options([], workers=2)
    runner = local_batch_runner(options)
    runner._default_environment = SubprocessSDKEnvironment.from_command_string("python -m beams.own.worker")
    assert runner._default_environment.command_string == worker_command()
    threads = EmbeddedPythonGrpcEnvironment.default()  # --direct_running_mode=multi_threading: no processes
    runner._default_environment = threads
    assert runner._default_environment is threads
