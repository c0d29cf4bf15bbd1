import argparse

import apache_beam as beam
import pytest

from pipelines.common.resources import (
    HINT_ARGUMENTS,
    add_accelerator_arguments,
    describe_hints,
    hinted_roots,
    hinted_steps,
    hints_for,
    with_step_hints,
)

L4 = "type:nvidia-l4;count:1;install-nvidia-driver:latest"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_accelerator_arguments(parser, "llm")
    add_accelerator_arguments(parser, "asr")
    return parser.parse_args(argv)


def test_flags_become_hints_per_step():
    args = parse("--llm-accelerator", L4, "--llm-min-ram", "32GB")
    assert hints_for(args, "llm") == {"accelerator": L4, "min_ram": "32GB"}
    assert hints_for(args, "asr") == {}
    assert hints_for(args, "detector") == {}  # a subset without the flags
    assert {"llm_accelerator", "asr_min_ram", "detector_accelerator"} <= HINT_ARGUMENTS


def test_unknown_step_and_bad_values_are_refused(capsys):
    with pytest.raises(KeyError):
        add_accelerator_arguments(argparse.ArgumentParser(), "renderer")
    for argv in (["--llm-accelerator", "count:1"], ["--llm-accelerator", "type:x;count:0"], ["--asr-min-ram", "lots"]):
        with pytest.raises(SystemExit):
            parse(*argv)
    assert "is not a size" in capsys.readouterr().err
    # Other accelerator kinds need no NVIDIA driver option.
    assert hints_for(parse("--asr-accelerator", "type:tpu-v5;count:4"), "asr") == {"accelerator": "type:tpu-v5;count:4"}


class TwoSteps(beam.PTransform):
    def expand(self, pcoll):
        return pcoll | "Batch" >> beam.Map(lambda x: x) | "Infer" >> beam.Map(lambda x: x)


def test_hints_reach_every_transform_of_a_hinted_step_and_nothing_else():
    args = parse("--llm-accelerator", L4, "--llm-min-ram", "16GiB")
    pipeline = beam.Pipeline()
    _ = (
        pipeline
        | "Read" >> beam.Create([1, 2])
        | "Model" >> with_step_hints(TwoSteps(), args, "llm")
        | "Untouched" >> with_step_hints(TwoSteps(), args, "asr")
        | "Write" >> beam.Map(print)
    )
    proto = pipeline.to_runner_api()
    expected = {"accelerator": L4, "min_ram": "16GiB"}
    assert hinted_steps(proto) == {"Model/Batch": expected, "Model/Infer": expected}
    assert hinted_roots(proto) == {"Model": expected}
    assert describe_hints(proto) == [f"Model: accelerator={L4}, min_ram=16GiB"]


def test_no_flags_leave_the_transform_as_it_was():
    transform = TwoSteps()
    assert with_step_hints(transform, parse(), "llm") is transform
    assert transform.get_resource_hints() == {}
