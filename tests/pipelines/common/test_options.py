from pipelines.common.options import pipeline_options, unknown_beam_flags


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
