"""Run one subset end to end: check arguments, stage, run the Beam pipeline, report, publish.

The Beam job writes shards, dead letters and per-shard stats into the staging folder. Then the driver reads
back the small columns to plot stats, samples rows for the preview, writes the card and, last, the manifest,
and swaps the staging folder in as OUTPUT/SUBSET.
"""

import argparse
import json
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from pipelines.common import manifest as manifest_lib
from pipelines.common.card import render_card
from pipelines.common.options import LOCAL_RUNNERS, is_dry_run, new_pipeline, pipeline_options
from pipelines.common.preview import render_preview
from pipelines.common.progress import ProgressMonitor
from pipelines.common.record_flow import REPORT, WORK, RecordSubset
from pipelines.common.report import RunReport
from pipelines.common.resources import HINT_ARGUMENTS, describe_hints, submitted_proto
from pipelines.common.shards import ensure_dir, read_bytes, write_bytes_atomically
from pipelines.common.splits import SplitSpec
from pipelines.common.staging import MANIFEST, Staging, is_local, join, run_id
from pipelines.common.subset import RunContext, Subset
from pipelines.common.version import code_version

log = logging.getLogger("pixmo")

# Arguments that change how a run goes, not what it makes (left out of the staging fingerprint).
NOT_ROW_DECIDING = {
    "output",
    "workers",
    "restart",
    "no_progress",
    "preview_rows",
    "subset",
    "min_keep",
    "publish_anyway",
    "input_shard_size",  # decides the work units (the plan id has it), not the rows
} | HINT_ARGUMENTS


@dataclass
class RunResult:
    subset: str
    output_dir: str
    manifest: dict[str, Any] | None  # None for a dry run
    exit_code: int


def _expected_total(subset: Subset, args: argparse.Namespace) -> int | None:
    if subset.default_num_examples is None and args.num_examples is None:
        return None  # the input decides
    return SplitSpec.parse(args.splits).total(args.num_examples)


def run_subset(
    subset: Subset, options: Any, args: argparse.Namespace, beam_args: list[str], out: TextIO | None = None
) -> RunResult:
    """Stage, run, report and - when the run is good enough - publish one subset. `options` is `subset.parse`'s."""
    out = out or sys.stdout
    started = time.perf_counter()
    beam_options, runner = pipeline_options(beam_args, args.workers)
    version = code_version()
    fingerprint = {
        "subset": subset.name,
        "code_version": version,
        "schema_version": subset.schema.SCHEMA_VERSION,
        "args": {k: v for k, v in sorted(vars(args).items()) if k not in NOT_ROW_DECIDING},
        "subset_fingerprint": subset.fingerprint(options),
    }
    staging = Staging(args.output, subset.name, run_id(fingerprint))
    dry_run = is_dry_run(beam_options)
    ctx = RunContext(args, options, staging, version, _expected_total(subset, args), dry_run=dry_run)
    if not dry_run:
        staging.prepare(restart=args.restart)
        kept = len(_glob(staging.path("_shards", "*", "*.json")))
        if kept and not isinstance(subset, RecordSubset):  # record flows say what they keep in prepare()
            print(f"{subset.name}: resuming: {kept} shard(s) already written in {staging.dir}", file=out)
    subset.prepare(ctx, out)
    pipeline = new_pipeline(beam_options, runner)
    subset.build(pipeline, ctx)

    total = ctx.total_examples
    show_progress = not args.no_progress and runner in LOCAL_RUNNERS and is_local(staging.dir) and total
    if dry_run:
        result = pipeline.run()
        print(f"{subset.name}: dry run - the {runner} job graph was built and validated; nothing ran.", file=out)
        # Where each step would run (resources.py): the GPU hints must sit on the model steps only.
        hints = describe_hints(submitted_proto(result, pipeline))
        for line in hints or ["none (every step runs on the job's workers)"]:
            print(f"  resource hints: {line}", file=out)
        return RunResult(subset.name, staging.final_dir, None, 0)
    if show_progress:
        with ProgressMonitor(staging.path("_progress"), total, subset.name):
            pipeline.run().wait_until_finish()
    else:
        pipeline.run().wait_until_finish()
    pipeline_seconds = time.perf_counter() - started

    report = read_report(staging, subset, args)
    manifest = _finish(subset, options, args, staging, report, version, runner, pipeline_seconds, started)
    refusal = publish_refusal(report, subset.min_keep if args.min_keep is None else args.min_keep)
    if refusal and not args.publish_anyway:
        print(
            f"{subset.name}: NOT PUBLISHED - {refusal}. {staging.final_dir} is left as it was. This run's rows, dead "
            f"letters and reports stay in {staging.dir} (see _rejected/ there); --publish-anyway publishes it.",
            file=out,
        )
        _print_rejections(report, out)
        return RunResult(subset.name, staging.dir, manifest, 1)
    for internal in (WORK, REPORT):  # work files hold a second copy of the rows: never published
        _remove(staging.path(internal))
    staging.publish()
    _print_summary(subset, staging.final_dir, manifest, report, out)
    if report.rows == 0:
        print(f"{subset.name}: ERROR - every example was rejected; see {staging.final_dir}/_rejected/", file=out)
        return RunResult(subset.name, staging.final_dir, manifest, 1)
    return RunResult(subset.name, staging.final_dir, manifest, 0)


def publish_refusal(report: RunReport, min_keep: float) -> str | None:
    """Why this run must not replace the published subset, or None."""
    if report.rows == 0:
        return f"the run kept no rows ({report.rejected_inputs} inputs rejected)"
    if report.kept_share < min_keep:
        return (
            f"the run kept {report.rows} of {report.rows + report.rejected_inputs} inputs ({report.kept_share:.1%}), "
            f"under --min-keep {min_keep:g}"
        )
    return None


def read_report(staging: Staging, subset: Subset, args: argparse.Namespace) -> RunReport:
    """Everything the reports need from what the job wrote, read once."""
    shard_stats = [json.loads(read_bytes(p)) for p in _glob(staging.path("_shards", "*", "*.json"))]
    totals = manifest_lib.aggregate_shard_stats(shard_stats)
    shard_files = {split: _glob(staging.path(split, "*.parquet")) for split in totals["splits"]}
    table = _read_columns([p for files in shard_files.values() for p in files], subset.stats_columns)
    rejects = [
        json.loads(line)
        for path in _glob(staging.path("_rejected", "*.jsonl"))
        for line in read_bytes(path).decode().splitlines()
        if line.strip()
    ]
    extras = {
        path.rsplit("/", 1)[-1][: -len(".json")]: json.loads(read_bytes(path))
        for path in _glob(staging.path(REPORT, "*.json"))
    }
    return RunReport(table, rejects, shard_stats, totals, extras, _requested_splits(subset, args))


def _requested_splits(subset: Subset, args: argparse.Namespace) -> dict[str, int]:
    spec = SplitSpec.parse(args.splits)
    if not spec.exact:
        return {}
    return {name: int(value) for name, value in zip(spec.names, spec.values, strict=True)}


def _finish(
    subset: Subset,
    options: Any,
    args: argparse.Namespace,
    staging: Staging,
    report: RunReport,
    version: str,
    runner: str,
    pipeline_seconds: float,
    started: float,
) -> dict[str, Any]:
    """Everything after the Beam job: stats, plots, preview, card, and the manifest last."""
    post_start = time.perf_counter()
    _remove(staging.path("_progress"))
    totals = report.totals
    shard_files = {split: _glob(staging.path(split, "*.parquet")) for split in totals["splits"]}
    stats_dir = staging.path("stats")
    plots = subset.plot_stats(report, stats_dir) if report.table.num_rows or subset.plots_without_rows else []
    shards_json = json.dumps(report.shard_stats, indent=1, sort_keys=True).encode()
    write_bytes_atomically(join(stats_dir, "shards.json"), shards_json)
    ensure_dir(staging.path("_rejected"))  # present even when empty, so nobody wonders where it went

    top_rejects = _top_rejections(report)
    preview_rows = _sample_rows(shard_files, args.preview_rows)
    items = [subset.preview_item(row) for row in preview_rows]
    per_split = ", ".join(f"{split}: {v['rows']}" for split, v in totals["splits"].items())
    intro = f"{len(items)} sample rows of {totals['rows']} ({per_split}); {totals['rejected']} rejected."

    write_bytes_atomically(
        staging.path("preview.html"),
        render_preview(f"PixMo-{subset.name} preview", intro, items, top_rejects),
    )

    pipeline_rate = (totals["rows"] + totals["rejected"]) / pipeline_seconds if pipeline_seconds else 0.0
    arguments = {k: v for k, v in sorted(vars(args).items())}
    manifest = manifest_lib.build_manifest(
        subset=subset.name,
        schema_version=subset.schema.SCHEMA_VERSION,
        code_version=version,
        generator_version=subset.generator_version(),
        models=subset.models(options),
        arguments=arguments,
        seed=args.seed,
        totals=totals,
        timings={
            "pipeline": round(pipeline_seconds, 2),
            "reports": round(time.perf_counter() - post_start, 2),
            "total": round(time.perf_counter() - started, 2),
            "examples_per_s": round(pipeline_rate, 2),
        },
        files=[],
        runner=runner,
    )
    manifest["requested_splits"] = report.requested_splits
    manifest["kept_share"] = round(report.kept_share, 4)
    card = render_card(
        subset=subset.name,
        description=subset.card_description(options, report),
        schema=subset.schema.SCHEMA,
        manifest=manifest,
        plots=plots,
    )
    write_bytes_atomically(staging.path("README.md"), card)
    manifest["files"] = _file_list(staging)
    write_bytes_atomically(staging.path(MANIFEST), manifest_lib.to_json(manifest))
    return manifest


def _glob(pattern: str) -> list[str]:
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


def _remove(path: str) -> None:
    if FileSystems.exists(path):
        FileSystems.delete([path])


def _read_columns(paths: list[str], columns: tuple[str, ...]) -> pa.Table:
    """The small columns of every shard. Parquet reads the footer and those column chunks only, through the
    seekable handle (local or object store), never a shard's images."""
    tables = []
    for path in paths:
        with FileSystems.open(path) as handle:
            tables.append(pq.read_table(handle, columns=list(columns)))
    return pa.concat_tables(tables) if tables else pa.table({})


def _sample_rows(shard_files: dict[str, list[str]], n: int) -> list[dict[str, Any]]:
    """The first rows of each split's first shard, validation/test first (they are the ones people check)."""
    if n == 0:
        return []
    order = sorted(shard_files, key=lambda s: (s == "train", s))
    rows: list[dict[str, Any]] = []
    per_split = max(1, n // max(1, len(order)))
    for split in order:
        for path in shard_files[split][:1]:
            with FileSystems.open(path) as handle:  # the first row group only, not the whole shard
                batch = next(pq.ParquetFile(handle).iter_batches(batch_size=per_split), None)
            rows += batch.to_pylist() if batch is not None else []
    if len(rows) < n:
        return rows
    return rows[:n]


def _top_rejections(report: RunReport, limit: int = 10) -> list[tuple[str, int]]:
    reasons: Counter[str] = Counter(f"[{r['stage']}] {r['reason'][:200]}" for r in report.rejects)
    return reasons.most_common(limit)


def _print_rejections(report: RunReport, out: TextIO, limit: int = 5) -> None:
    for reason, n in _top_rejections(report, limit):
        print(f"  {n:>6} x {reason}", file=out)


def _file_list(staging: Staging) -> list[dict[str, Any]]:
    matches = FileSystems.match([staging.dir + "/**"])[0].metadata_list
    files = []
    for m in sorted(matches, key=lambda m: m.path):
        relative = m.path[len(staging.dir) + 1 :]
        if relative != MANIFEST and not relative.startswith((WORK + "/", REPORT + "/")):
            files.append({"path": relative, "bytes": m.size_in_bytes})
    return files


def _print_summary(subset: Subset, final_dir: str, manifest: dict[str, Any], report: RunReport, out: TextIO) -> None:
    timings = manifest["timings_s"]
    print(
        f"\n{subset.name}: done in {timings['total']:.1f}s ({timings['examples_per_s']:.1f} examples/s)",
        file=out,
    )
    for split, s in manifest["splits"].items():
        print(
            f"  {split:<11} {s['rows']:>8} rows  {s['shards']:>4} shards  {s['bytes'] / 1e6:8.1f} MB",
            file=out,
        )
    stages = ", ".join(f"{k}: {v}" for k, v in manifest["rejected_by_stage"].items())
    print(f"  rejected    {manifest['rejected']:>8}{'  (' + stages + ')' if stages else ''}", file=out)
    inputs = report.rows + report.rejected_inputs
    if inputs and report.rejected_inputs / inputs > 0.1:
        print(f"  WARNING: {report.rejected_inputs / inputs:.0%} of inputs were rejected", file=out)
    for split, (asked, got) in report.short_splits().items():
        print(f"  WARNING: split {split} has {got} rows of the {asked} asked for (too few inputs qualified)", file=out)
    print(f"  shards:   {final_dir}/<split>/part-*.parquet", file=out)
    print(f"  card:     {final_dir}/README.md", file=out)
    print(f"  stats:    {final_dir}/stats/", file=out)
    print(f"  preview:  {final_dir}/preview.html", file=out)
    print(f"  rejected: {final_dir}/_rejected/", file=out)
    print(f"  manifest: {final_dir}/{MANIFEST}", file=out)
