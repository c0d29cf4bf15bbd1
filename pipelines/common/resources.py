"""GPU placement for the model steps: the `--STEP-accelerator` / `--STEP-min-ram` flags and the Beam resource hints
they become.

Only the steps that run a model (STEPS) take hints, so on Dataflow (right fitting, batch) the CPU steps around them
(decode, render, write) run on plain workers and never hold a GPU. Without the flags there are no hints and every
step runs where the job's workers are (for a whole-job GPU, use Dataflow's `worker_accelerator` service option
instead; README, "Dataflow").
"""

import argparse
from typing import Any

import apache_beam as beam
from apache_beam.portability.common_urns import resource_hints as urns
from apache_beam.transforms.resources import ResourceHint

# The model steps that can ask for a GPU, and what runs in each.
STEPS = {
    "llm": "the LLM step (Docs' make-and-write step; the Cap, CapQA caption/question/answer rounds)",
    "asr": "the speech recognition step (Whisper, Cap)",
    "detector": "the object detector step (YOLO, Count)",
}
ACCELERATOR_URN = urns.ACCELERATOR.urn
MIN_RAM_URN = urns.MIN_RAM_BYTES.urn
EXAMPLE_ACCELERATOR = "type:nvidia-l4;count:1;install-nvidia-driver:latest"
# The arguments these flags set: they decide where a step runs, never what it makes.
HINT_ARGUMENTS = frozenset(f"{step}_{kind}" for step in STEPS for kind in ("accelerator", "min_ram"))


def accelerator_spec(value: str) -> str:
    """argparse type of --STEP-accelerator: Dataflow's 'type:T;count:N[;option...]' form."""
    fields = dict(part.split(":", 1) if ":" in part else (part, "") for part in value.split(";") if part)
    if not fields.get("type"):
        raise argparse.ArgumentTypeError(f"{value!r} names no GPU type; e.g. {EXAMPLE_ACCELERATOR!r}")
    if not fields.get("count", "").isdigit() or int(fields["count"]) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} needs count:N with N >= 1; e.g. {EXAMPLE_ACCELERATOR!r}")
    if fields["type"].startswith("nvidia") and "install-nvidia-driver" not in fields:
        # Without it Dataflow starts GPU workers with no driver, and every CUDA call fails on the worker.
        raise argparse.ArgumentTypeError(f"{value!r}: NVIDIA GPUs need the install-nvidia-driver option")
    return value


def min_ram_spec(value: str) -> str:
    """argparse type of --STEP-min-ram: a size such as 16GB or 32GiB (Beam's storage-size syntax)."""
    try:
        ResourceHint.get_by_name("min_ram").parse(value)
    except (ValueError, KeyError) as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not a size such as 16GB or 32GiB ({error})") from None
    return value


def add_accelerator_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup, step: str) -> None:
    """--STEP-accelerator and --STEP-min-ram for one model step (a key of STEPS)."""
    if step not in STEPS:
        raise KeyError(f"unknown model step {step!r}; known: {', '.join(STEPS)}")
    parser.add_argument(
        f"--{step}-accelerator",
        type=accelerator_spec,
        default=None,
        metavar="SPEC",
        help=f"GPU for {STEPS[step]} on Dataflow, as a Beam resource hint, e.g. '{EXAMPLE_ACCELERATOR}' (default: "
        "none: the step runs on the job's workers).",
    )
    parser.add_argument(
        f"--{step}-min-ram",
        type=min_ram_spec,
        default=None,
        metavar="SIZE",
        help=f"Least worker memory for {STEPS[step]}, e.g. 32GB, as a Beam resource hint (default: none).",
    )


def hints_for(args: argparse.Namespace, step: str) -> dict[str, str]:
    """The resource hints the flags give `step`: {} when none are set (arguments without the flags give {})."""
    hints = {}
    accelerator = getattr(args, f"{step}_accelerator", None)
    min_ram = getattr(args, f"{step}_min_ram", None)
    if accelerator:
        hints["accelerator"] = accelerator
    if min_ram:
        hints["min_ram"] = min_ram
    return hints


def with_step_hints(transform: beam.PTransform, args: argparse.Namespace, step: str) -> beam.PTransform:
    """`transform` with the hints of `step` (unchanged without them). Hints on a composite (RunInference) reach
    every transform inside it."""
    hints = hints_for(args, step)
    return transform.with_resource_hints(**hints) if hints else transform


def _readable(environment: Any) -> dict[str, str]:
    hints = dict(environment.resource_hints) if environment is not None else {}
    readable = {}
    if ACCELERATOR_URN in hints:
        readable["accelerator"] = hints[ACCELERATOR_URN].decode()
    if MIN_RAM_URN in hints:
        readable["min_ram"] = _size_text(int(hints[MIN_RAM_URN]))
    return readable


def _size_text(size: int) -> str:
    """Bytes as Beam's size syntax: 32GiB, 16GB, or plain bytes."""
    if size and size % 2**30 == 0:
        return f"{size // 2**30}GiB"
    if size and size % 10**9 == 0:
        return f"{size // 10**9}GB"
    return str(size)


def hinted_steps(pipeline_proto: Any) -> dict[str, dict[str, str]]:
    """Leaf transforms of a pipeline proto that carry hints -> {"accelerator": ..., "min_ram": ...}: where each
    runs."""
    components = pipeline_proto.components
    out = {}
    for transform in components.transforms.values():
        if transform.subtransforms or not transform.environment_id:
            continue
        readable = _readable(components.environments.get(transform.environment_id))
        if readable:
            out[transform.unique_name] = readable
    return out


def hinted_roots(pipeline_proto: Any) -> dict[str, dict[str, str]]:
    """The outermost transforms that carry hints (where with_resource_hints was applied, e.g. "Caption") -> hints."""
    components = pipeline_proto.components
    parent = {child: tid for tid, t in components.transforms.items() for child in t.subtransforms}

    def hints_of(tid: str) -> dict[str, str]:
        return _readable(components.environments.get(components.transforms[tid].environment_id))

    out = {}
    for tid, transform in components.transforms.items():
        hints = hints_of(tid)
        if hints and (tid not in parent or hints_of(parent[tid]) != hints):
            out[transform.unique_name] = hints
    return out


def describe_hints(pipeline_proto: Any) -> list[str]:
    """One line per hinted step for a dry run's summary, e.g. 'Caption: accelerator=type:nvidia-l4;...'."""
    return [
        f"{name}: " + ", ".join(f"{key}={value}" for key, value in sorted(hints.items()))
        for name, hints in sorted(hinted_roots(pipeline_proto).items())
    ]


def submitted_proto(result: Any, pipeline: beam.Pipeline) -> Any:
    """The pipeline proto a runner took: the Dataflow job's own (after its overrides) when it has one."""
    job = getattr(result, "job", None)
    proto = getattr(job, "proto_pipeline", None)
    return proto if proto is not None else pipeline.to_runner_api()
