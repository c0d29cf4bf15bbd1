import socket
import urllib.request

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner.fn_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from pipelines.common.options import local_batch_runner, new_pipeline, pipeline_options, unknown_beam_flags


def test_local_default_is_multiprocess_direct_runner_on_all_cores():
    options, runner = pipeline_options([], workers=0)
    all_options = options.get_all_options()
    assert runner == "DirectRunner"
    assert all_options["direct_running_mode"] == "multi_processing"
    assert all_options["direct_num_workers"] >= 1


def test_given_runner_and_options_pass_through():
    options, runner = pipeline_options(["--runner", "DataflowRunner", "--project", "p", "--region", "r"], 0)
    assert runner == "DataflowRunner"
    assert options.get_all_options()["project"] == "p"


def test_unknown_flags_are_found():
    assert unknown_beam_flags(["--project", "p", "--no_such_flag=1"]) == ["--no_such_flag"]
    assert unknown_beam_flags([]) == []


def _record_network_calls(monkeypatch) -> list:
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args[:1])  # recorded, not only raised: Beam catches a failed Prism start and falls back
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return calls


def test_a_local_run_makes_no_network_call(monkeypatch):
    # Beam's DirectRunner would first try Prism, which downloads its binary from GitHub.
    calls = _record_network_calls(monkeypatch)
    options, runner = pipeline_options(["--direct_running_mode=in_memory"], workers=1)
    pipeline = new_pipeline(options, runner)
    assert isinstance(pipeline.runner, FnApiRunner)
    with pipeline:
        squares = pipeline | beam.Create([1, 2, 3]) | beam.Map(lambda x: x * x)
        assert_that(squares, equal_to([1, 4, 9]))
    assert calls == []


def test_the_local_runner_hands_the_options_to_its_workers():
    options, _ = pipeline_options(["--direct_running_mode=in_memory"], workers=3)
    given = local_batch_runner(options)._provision_info.provision_info.pipeline_options
    assert int(given["beam:option:direct_num_workers:v1"]) == 3
    assert given["beam:option:direct_running_mode:v1"] == "in_memory"
