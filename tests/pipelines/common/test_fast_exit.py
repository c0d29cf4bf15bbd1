"""The fast-exit plugin: registered at import, it freezes the heap when the process exits."""

import os
import subprocess
import sys

import apache_beam as beam
from apache_beam.testing.util import assert_that

from pipelines.common.options import FAST_EXIT_PLUGIN, new_pipeline, pipeline_options


def test_importing_it_freezes_the_heap_at_exit():
    code = (
        "import atexit, gc; import pipelines.common.fast_exit; "
        "before = gc.get_freeze_count(); atexit._run_exitfuncs(); print(before, gc.get_freeze_count() > 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["0", "True"], done.stderr


def test_local_options_name_it_and_keep_a_users_plugins():
    options, _ = pipeline_options(["--beam_plugins=my.plugin"], workers=1)
    assert options.get_all_options()["beam_plugins"] == ["my.plugin", FAST_EXIT_PLUGIN]


def _in_worker(_):
    import os
    import sys

    return os.getpid(), FAST_EXIT_PLUGIN in sys.modules


def test_a_local_worker_process_imports_it():
    options, runner = pipeline_options([], workers=1)  # one SDK worker process, started by Beam
    here = os.getpid()

    def check(seen):
        assert len(seen) == 1 and seen[0][0] != here and seen[0][1], seen

    with new_pipeline(options, runner) as pipeline:
        assert_that(pipeline | beam.Create([0]) | beam.Map(_in_worker), check)
