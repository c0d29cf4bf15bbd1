"""Command-line options every subset shares, and how the rest become Beam pipeline options."""

import argparse
import os
from dataclasses import replace
from typing import TYPE_CHECKING

import apache_beam as beam
from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions
from apache_beam.options.pipeline_options_validator import PipelineOptionsValidator

from pipelines.common.local_worker import worker_command
from pipelines.common.splits import SplitSpec
from pipelines.common.worker_watch import fail_when_a_worker_dies

if TYPE_CHECKING:
    from apache_beam.runners.portability.fn_api_runner.fn_runner import FnApiRunner

    from inference.llm import LLMConfig

LOCAL_RUNNERS = {"DirectRunner", "FnApiRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner"}
# The names that mean Beam's local batch engine; new_pipeline runs them on the FnApiRunner itself.
FN_API_RUNNERS = {"directrunner", "direct", "switchingdirectrunner", "fnapirunner", "fnapi"}

BEAM_EPILOG = """\
Beam pipeline options pass straight through, for example:
  --runner DataflowRunner --project P --region us-central1 --temp_location gs://B/tmp
      --staging_location gs://B/staging --setup_file ./setup.py --machine_type n2-standard-8
      --max_num_workers 50 [--sdk_container_image IMAGE] [--dry_run=True --no_auth]
  --runner FlinkRunner --flink_master HOST:8081 ...
Without --runner the job runs locally on all cores (Beam's FnApiRunner in multi-process mode, as DirectRunner
runs a batch job, never Prism; no network).
"""


def add_common_arguments(
    parser: argparse.ArgumentParser, default_num_examples: int | None, default_splits: str
) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "--output",
        default="./data",
        help="Root folder (local path or gs://...); the subset goes in OUTPUT/SUBSET/.",
    )
    group.add_argument(
        "--num-examples",
        type=int,
        default=default_num_examples,
        help="How many examples to make (default: %(default)s). Ignored when --splits gives exact counts.",
    )
    group.add_argument("--seed", type=int, default=0, help="Every random choice derives from it (default: 0).")
    group.add_argument(
        "--splits",
        default=default_splits,
        help="Fractions (train=0.98,validation=0.01,test=0.01) or exact counts (train=1000,validation=50) "
        "(default: %(default)s).",
    )
    group.add_argument(
        "--num-shards",
        type=int,
        default=None,
        help="Shards for the largest split (default: by --rows-per-shard).",
    )
    group.add_argument("--rows-per-shard", type=int, default=2000, help="Target rows per shard (default: 2000).")
    group.add_argument("--preview-rows", type=int, default=36, help="Sample rows shown in preview.html (default: 36).")
    run = parser.add_argument_group("running")
    run.add_argument("--workers", type=int, default=0, help="Local worker processes (default: 0 = one per CPU core).")
    run.add_argument(
        "--restart",
        action="store_true",
        help="Discard shards left by an interrupted run with the same arguments instead of resuming from them.",
    )
    run.add_argument("--no-progress", action="store_true", help="Don't print progress lines while running.")
    run.add_argument(
        "--input-shard-size",
        type=int,
        default=None,
        help="Subsets over real inputs: inputs per work unit; an interrupted run resumes after the last finished "
        "one (default: the subset's own, e.g. 64 images for count).",
    )
    publish = parser.add_argument_group("publishing")
    publish.add_argument(
        "--min-keep",
        type=float,
        default=None,
        help="Publish OUTPUT/SUBSET only when the run keeps at least this share of its inputs as rows (default: "
        "0.05 for subsets over real inputs, 0 for generated ones). A run with no rows is never published. A run "
        "that is not published leaves the published subset as it was and keeps its staging folder.",
    )
    publish.add_argument(
        "--publish-anyway",
        action="store_true",
        help="Publish even a run under --min-keep or without rows (it replaces the published subset).",
    )


def check_common_arguments(args: argparse.Namespace) -> list[str]:
    problems = []
    try:
        spec = SplitSpec.parse(args.splits)
        # None: the subset reads real inputs and the input decides the count (run.py handles it).
        if not spec.exact and args.num_examples is not None and args.num_examples < 1:
            problems.append("--num-examples must be at least 1")
    except ValueError as error:
        problems.append(str(error))
    if args.num_shards is not None and args.num_shards < 1:
        problems.append("--num-shards must be at least 1")
    if args.rows_per_shard < 1:
        problems.append("--rows-per-shard must be at least 1")
    if args.preview_rows < 0:
        problems.append("--preview-rows must be 0 or more")
    if args.workers < 0:
        problems.append("--workers must be 0 (all cores) or more")
    if args.input_shard_size is not None and args.input_shard_size < 1:
        problems.append("--input-shard-size must be at least 1")
    if args.min_keep is not None and not 0.0 <= args.min_keep <= 1.0:
        problems.append("--min-keep must be a share from 0 to 1")
    return problems


def unknown_beam_flags(beam_args: list[str]) -> list[str]:
    """Flags that are neither ours nor any Beam pipeline option's (Beam itself only warns and drops them)."""
    if not beam_args:
        return []
    options = PipelineOptions(beam_args)
    known = options.get_all_options(drop_default=True, retain_unknown_options=False)
    every = options.get_all_options(drop_default=True, retain_unknown_options=True)
    return sorted(f"--{name}" for name in set(every) - set(known))


def dry_run_problems(beam_args: list[str]) -> list[str]:
    """A Dataflow dry run stays offline only with a valid --temp_location or --staging_location: with neither, Beam
    looks up (to create) a default bucket over the network and gives up after two minutes of retries."""
    if not beam_args:
        return []
    options = PipelineOptions(beam_args)
    given = options.get_all_options(drop_default=True)
    if not given.get("dry_run") or "dataflow" not in str(given.get("runner", "")).lower():
        return []
    validator = PipelineOptionsValidator(options, None)
    cloud = options.view_as(GoogleCloudOptions)
    errors = [e for name in ("temp_location", "staging_location") for e in validator.validate_gcs_path(cloud, name)]
    if len(errors) == 2:  # both missing or invalid
        return [
            "a Dataflow dry run needs a valid --temp_location gs://BUCKET/PATH (or --staging_location); without one "
            f"Beam looks up a default bucket over the network ({errors[0]})"
        ]
    return []


def pipeline_options(beam_args: list[str], workers: int) -> tuple[PipelineOptions, str]:
    """Beam options from the pass-through flags; without --runner, the local multi-process runner."""
    options = PipelineOptions(beam_args)
    given = options.get_all_options(drop_default=True)
    runner = given.get("runner") or "DirectRunner"
    extra: dict[str, object] = {}
    if "runner" not in given:
        defaults = {
            "runner": "DirectRunner",
            "direct_running_mode": "multi_processing",
            "direct_num_workers": workers or os.cpu_count() or 1,
        }
        named = {arg[2:].split("=", 1)[0] for arg in beam_args if arg.startswith("--")}
        extra = {key: value for key, value in defaults.items() if key not in named}  # a flag given wins
    if runner in LOCAL_RUNNERS and "default_sdk_harness_log_level" not in given:
        extra["default_sdk_harness_log_level"] = "WARNING"
    if extra:
        options = PipelineOptions(beam_args, **extra)
    return options, str(runner)


def new_pipeline(options: PipelineOptions, runner: str) -> beam.Pipeline:
    """A Beam pipeline for `options` and the runner `pipeline_options` named.

    A local batch run (DirectRunner, the default) gets Beam's FnApiRunner directly, set up the way DirectRunner
    sets it up for a batch job. DirectRunner itself (Beam 2.77) first tries Prism, whatever the running mode, and
    Prism downloads its binary from GitHub: a network call at run time, a different engine where the download
    works, and a hang where a firewall drops packets.
    """
    if runner.lower() not in FN_API_RUNNERS:
        return beam.Pipeline(options=options)
    return beam.Pipeline(runner=local_batch_runner(options), options=options)


def in_process_pipeline() -> beam.Pipeline:
    """A local pipeline that runs in this process, on one worker (tests, checks, benches)."""
    options, runner = pipeline_options(["--direct_running_mode=in_memory"], workers=1)
    return new_pipeline(options, runner)


def local_batch_runner(options: PipelineOptions) -> "FnApiRunner":
    """Beam's FnApiRunner with `options` in its provision info, so every SDK worker process sees them (as
    DirectRunner's own FnApiRunner path does); running mode and worker count come from `options`. In
    multi-process mode its workers start through `local_worker` (a cheaper import, a fast exit), and a worker
    that dies fails the run at once (`worker_watch`)."""
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle
    from apache_beam.transforms.environments import SubprocessSDKEnvironment

    class LocalBatchRunner(fn_runner.FnApiRunner):
        # FnApiRunner.run_pipeline sets its default environment to a worker command of its own for
        # multi_processing; this keeps the environment and swaps only the command.
        @property
        def _default_environment(self):
            return self._environment

        @_default_environment.setter
        def _default_environment(self, environment) -> None:
            if isinstance(environment, SubprocessSDKEnvironment):
                environment = SubprocessSDKEnvironment.from_command_string(worker_command())
            self._environment = environment

        def run_pipeline(self, pipeline, options):
            with fail_when_a_worker_dies():  # Beam alone would wait for a dead worker forever
                return super().run_pipeline(pipeline, options)

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    provision = beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)
    return LocalBatchRunner(provision_info=fn_runner.ExtendedProvisionInfo(provision))


def is_dry_run(options: PipelineOptions) -> bool:
    return bool(options.get_all_options(drop_default=True).get("dry_run"))


def threads_per_worker(requested: int, workers: int | None) -> int:
    """Torch/ONNX threads per local worker process: as asked, or the cores shared among the workers (more threads
    than cores per process only adds contention)."""
    if requested:
        return requested
    cores = os.cpu_count() or 1
    return max(1, cores // (workers or cores))


def worker_llm(args: argparse.Namespace) -> tuple["LLMConfig", str]:
    """The --llm-* flags as the config one local worker uses (the cores shared among the workers, for the local
    backend), and the model id rows and manifests name."""
    from inference.llm import llm_config_from_args  # imported late: --list and --help stay fast
    from inference.llm.models import model_id_for

    config = llm_config_from_args(args)
    if config.backend == "transformers":
        config = replace(config, cpu_threads=threads_per_worker(config.cpu_threads, args.workers))
        return config, model_id_for(args.llm_model)
    return config, args.llm_model or f"{args.llm_backend}:{args.llm_url or 'default'}"
