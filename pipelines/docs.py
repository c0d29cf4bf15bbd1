"""PixMo-Docs: charts, tables, diagrams and documents rendered from LLM-written code, with QA written from the
data and code (never the image), as in PixMo-Docs / CoSyn.

Graph: ShardTasks -> Reshuffle -> MakeAndWrite. One DoFn call runs a shard's examples stage by stage (persona ->
topic -> data -> code -> render (+ repairs) -> image checks -> QA -> filters), each LLM stage as one batched call,
then validates and writes the shard and its dead letters (one per example that stopped, with its stage).
"""

import argparse
import io
import json
import os
from collections import Counter
from dataclasses import replace
from typing import Any

import apache_beam as beam

from generators.docs.figures import FIGURE_TYPES
from generators.docs.personas import load_personas
from generators.docs.prompts import PROMPTS_VERSION
from generators.docs.renderers import RENDERERS
from generators.docs.stages import (
    LOCAL_MODEL_TOKENS,
    STRONG_MODEL_TOKENS,
    DocsExample,
    DocsSettings,
    DocsStageRunner,
    RendererPool,
    plan_example,
)
from inference.llm import LLMBackend, LLMConfig, add_llm_arguments, llm_config_from_args, make_llm
from inference.llm.models import model_id_for
from pipelines.common import plots
from pipelines.common.generated import ExampleMaker, GenerateShards, WriteGeneratedShard
from pipelines.common.rejects import RejectedExample
from pipelines.common.report import RunReport
from pipelines.common.resources import add_accelerator_arguments, hints_for
from pipelines.common.shards import plan_shards, write_bytes_atomically
from pipelines.common.splits import SplitSpec
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem, RunContext, Subset
from schemas import docs as docs_schema
from schemas.common import image_value, provenance, sha256_hex

GENERATOR_VERSION = "docs-2"
# Two shards at least for the largest split, so a small local run keeps both cores busy. A constant, not the
# worker count: the shard layout must not depend on the machine.
MIN_SHARDS = 2


def example_id(seed: int, index: int) -> str:
    return f"docs-s{seed}-{index:09d}"


def token_budget(args: argparse.Namespace, stage: str) -> int:
    """--STAGE-tokens, else the default for the backend: strong models (openai, vllm) write full documents; the
    embedded local model runs to whatever budget it gets, so it gets a small one."""
    given = getattr(args, f"{stage}_tokens")
    if given is not None:
        return given
    local = args.llm_backend == "transformers" and args.llm_model is None
    return (LOCAL_MODEL_TOKENS if local else STRONG_MODEL_TOKENS)[stage]


def settings_from_args(args: argparse.Namespace) -> DocsSettings:
    return DocsSettings(
        renderers=tuple(args.renderers.split(",")),
        repair_attempts=args.repair_attempts,
        render_timeout_s=args.render_timeout,
        topic_tokens=token_budget(args, "topic"),
        data_tokens=token_budget(args, "data"),
        code_tokens=token_budget(args, "code"),
        qa_tokens=token_budget(args, "qa"),
        code_temperature=args.code_temperature,
        structured=args.structured_outputs,
    )


def llm_config(args: argparse.Namespace) -> LLMConfig:
    """The LLM flags; a local model on CPU gets cores / workers torch threads unless --llm-cpu-threads says."""
    config = llm_config_from_args(args)
    if config.backend == "transformers" and config.cpu_threads == 0:
        cores = os.cpu_count() or 1
        config = replace(config, cpu_threads=max(1, cores // (args.workers or cores)))
    return config


class DocsMaker(ExampleMaker):
    """A shard's indices -> rows or RejectedExamples. The LLM and the renderers live per worker process."""

    def __init__(self, llm: LLMConfig, settings: DocsSettings, seed: int, code_version: str) -> None:
        self.llm_config = llm
        self.settings = settings
        self.seed = seed
        self.code_version = code_version
        self.llm: LLMBackend | None = None
        self.pool: RendererPool | None = None

    def setup(self) -> None:
        self.llm = make_llm(self.llm_config)  # weights load on the first call
        self.pool = RendererPool()  # renderers start on first use

    def teardown(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def make(self, index: int, split: str) -> dict[str, Any]:
        result = self.make_many([index], split)[0]
        if isinstance(result, Exception):
            raise result
        return result

    def make_many(self, indices: list[int], split: str) -> list[dict[str, Any] | Exception]:
        assert self.llm is not None and self.pool is not None, "setup() was not called"
        plans = [plan_example(self.seed, i, example_id(self.seed, i), self.settings.renderers) for i in indices]
        runner = DocsStageRunner(self.llm, self.settings, self.seed, self.pool)
        out: list[dict[str, Any] | Exception] = []
        for example in runner.run(plans):
            if example.failure is not None:
                f = example.failure
                out.append(RejectedExample(f.stage, f.reason, **f.details))
            else:
                out.append(self.row(example))
        return out

    def row(self, example: DocsExample) -> dict[str, Any]:
        assert self.llm is not None
        plan = example.plan
        return docs_schema.build_row(
            example_id=plan.key,
            image=image_value(example.png, f"{plan.key}.png"),
            image_sha256=sha256_hex(example.png),
            source=f"generator:docs/{GENERATOR_VERSION}",
            image_id=plan.key,
            questions={"question": [p.question for p in example.qa], "answer": [p.answer for p in example.qa]},
            config=plan.figure.config,
            renderer=plan.renderer,
            persona=plan.persona,
            topic=example.topic,
            data=example.data,
            code=example.code,
            figure_type=plan.figure.name,
            data_format=plan.figure.data_format,
            qa_kinds=[p.kind for p in example.qa],
            render_attempts=len(example.attempts),
            provenance=provenance(
                pipeline="docs",
                code_version=self.code_version,
                schema_version=docs_schema.SCHEMA_VERSION,
                seed=self.seed,
                generator_version=GENERATOR_VERSION,
                models=[self.llm.model_id],
                prompts_version=PROMPTS_VERSION,
                details={
                    "index": plan.index,
                    "llm_backend": self.llm_config.backend,
                    "attempts": example.attempts,
                    "qa_dropped": example.qa_dropped,
                    "structured": example.structured,
                },
            ),
        )


def stage_funnel(rows: int, rejects: list[dict[str, Any]]) -> dict[str, int]:
    """Examples left after each stage: examples -> topic ok -> data ok -> code rendered -> image checks ok ->
    QA ok -> rows (the last step drops rows that failed schema validation)."""
    by_stage = Counter(r["stage"] for r in rejects)
    left = rows + len(rejects)
    funnel = {"examples": left}
    for stage, label in (
        ("topic", "topic ok"),
        ("data", "data ok"),
        ("code+render", "code rendered"),
        ("image_checks", "image checks ok"),
        ("qa", "QA ok"),
    ):
        left -= sum(by_stage[s] for s in stage.split("+"))
        funnel[label] = left
    funnel["rows"] = rows
    return funnel


class Docs(Subset):
    name = "docs"
    summary = "charts, tables, diagrams and documents rendered from LLM-written code, with QA"
    schema = docs_schema
    default_num_examples = 20
    # Small default runs still get a couple of held-out examples per split.
    default_splits = "train=0.8,validation=0.1,test=0.1"
    plots_without_rows = True  # a weak model may keep nothing: the funnel then says where every example stopped
    stats_columns = ("config", "renderer", "figure_type", "render_attempts", "qa_kinds")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        defaults = DocsSettings()
        parser.add_argument(
            "--renderers",
            default=",".join(RENDERERS),
            help="Comma-separated renderers to draw from, uniformly per example (default: all seven).",
        )
        parser.add_argument(
            "--repair-attempts",
            type=int,
            default=defaults.repair_attempts,
            help="Times a failed render (error, or an unusable image) goes back to the LLM with the error to fix "
            "(default: %(default)s).",
        )
        parser.add_argument(
            "--render-timeout",
            type=float,
            default=defaults.render_timeout_s,
            help="Seconds one render may take (default: %(default)s).",
        )
        for stage in ("topic", "data", "code", "qa"):
            parser.add_argument(
                f"--{stage}-tokens",
                type=int,
                default=None,
                help=f"Max new tokens of the {stage} call (default: {STRONG_MODEL_TOKENS[stage]}, or "
                f"{LOCAL_MODEL_TOKENS[stage]} for the embedded local model). A reply cut at the limit is never "
                "kept: it gets a round asking for it complete and shorter, or is rejected.",
            )
        parser.add_argument(
            "--structured-outputs",
            action=argparse.BooleanOptionalAction,
            default=defaults.structured,
            help="Ask for the data, QA pairs and Vega-Lite specs as JSON schemas: response_format on "
            "OpenAI-compatible servers (dropped cleanly if a server refuses it), guided decoding on vLLM, a "
            "grammar-constrained decoder locally (default: on).",
        )
        parser.add_argument(
            "--code-temperature",
            type=float,
            default=defaults.code_temperature,
            help="Sampling temperature of the code calls (default: %(default)s).",
        )
        add_llm_arguments(parser)
        add_accelerator_arguments(parser, "llm")

    def check_arguments(self, args: argparse.Namespace) -> list[str]:
        problems = llm_config_from_args(args).validate()
        unknown = [r for r in args.renderers.split(",") if r not in RENDERERS]
        if unknown:
            problems.append(f"--renderers: unknown {', '.join(unknown)} (known: {', '.join(RENDERERS)})")
        if args.repair_attempts < 0:
            problems.append("--repair-attempts must be 0 or more")
        if args.render_timeout <= 0:
            problems.append("--render-timeout must be > 0")
        for stage in ("topic", "data", "code", "qa"):
            if getattr(args, f"{stage}_tokens") is not None and getattr(args, f"{stage}_tokens") < 1:
                problems.append(f"--{stage}-tokens must be at least 1")
        if args.code_temperature < 0:
            problems.append("--code-temperature must be >= 0")
        return problems

    def fingerprint(self, args: argparse.Namespace) -> dict[str, Any]:
        return {"generator_version": GENERATOR_VERSION, "prompts_version": PROMPTS_VERSION}

    def generator_version(self) -> str:
        return GENERATOR_VERSION

    def models(self, args: argparse.Namespace) -> list[str]:
        if args.llm_backend == "transformers":
            return [model_id_for(args.llm_model)]
        return [args.llm_model or f"{args.llm_backend}:{args.llm_url or 'default'}"]

    def build(self, pipeline: beam.Pipeline, ctx: RunContext) -> None:
        args = ctx.args
        ranges = SplitSpec.parse(args.splits).ranges(args.num_examples)
        tasks = plan_shards(ranges, args.rows_per_shard, args.num_shards, min_shards=MIN_SHARDS)
        maker = DocsMaker(llm_config(args), settings_from_args(args), args.seed, ctx.code_version)
        writer = WriteGeneratedShard(self.name, maker, docs_schema.SCHEMA, docs_schema.validate, ctx.staging.dir)
        pipeline | "Docs" >> GenerateShards(tasks, writer, hints_for(args, "llm"))

    def plot_stats(self, report: RunReport, out_dir: str) -> list[str]:
        table, rejects = report.table, report.rejects
        rows = table.to_pylist()
        files: dict[str, bytes] = {}
        funnel = stage_funnel(len(rows), rejects)
        files["stage_funnel.svg"] = plots.bar_svg(
            list(funnel), list(funnel.values()), "Examples left after each stage", "stage"
        )
        # When the image became usable: the attempt count of rows and of examples that failed only at QA.
        usable_at = Counter(f"attempt {r['render_attempts']}" for r in rows)
        usable_at.update(f"attempt {len(r['details'].get('attempts', []))}" for r in rejects if r["stage"] == "qa")
        files["render_attempts.svg"] = plots.bar_svg(
            sorted(usable_at), [usable_at[k] for k in sorted(usable_at)], "Usable image at code attempt", "attempt"
        )
        made = Counter(r["renderer"] for r in rows)
        tried = made + Counter(r["details"].get("renderer", "?") for r in rejects)
        names = sorted(tried)
        files["renderer_success.svg"] = plots.bar_svg(
            [f"{n} ({made[n]}/{tried[n]})" for n in names],
            [made[n] / tried[n] for n in names],
            "Success rate per renderer (rows / examples)",
            "renderer",
            horizontal=True,
            value_label="rows / examples",
        )
        by_stage = Counter(f"{r['details'].get('renderer', '?')}: {r['stage']}" for r in rejects)
        if by_stage:
            files["rejects_by_renderer_stage.svg"] = plots.bar_svg(
                list(by_stage),
                list(by_stage.values()),
                "Dead letters per renderer and stage",
                "renderer: stage",
                horizontal=True,
            )
        # The same numbers as JSON, per renderer: how many examples reached and passed each stage.
        per_renderer = {
            name: {"examples": tried[name], "rows": made[name]}
            | dict(Counter(r["stage"] for r in rejects if r["details"].get("renderer", "?") == name))
            for name in names
        }
        summary = {"funnel": funnel, "renderers": per_renderer}
        write_bytes_atomically(join(out_dir, "funnel.json"), json.dumps(summary, indent=1, sort_keys=True).encode())
        if not rows:  # nothing kept: the funnel and the dead letters are the whole story
            for name, data in files.items():
                write_bytes_atomically(join(out_dir, name), data)
            return list(files)
        qa_counts = Counter(len(r["qa_kinds"]) for r in rows)
        files["qa_per_image.svg"] = plots.bar_svg(
            [str(k) for k in sorted(qa_counts)],
            [qa_counts[k] for k in sorted(qa_counts)],
            "QA pairs per image",
            "questions",
        )
        kinds = Counter(k for r in rows for k in r["qa_kinds"])
        files["qa_kinds.svg"] = plots.bar_svg(list(kinds), list(kinds.values()), "QA pairs by kind", "kind")
        configs = Counter(r["config"] for r in rows)
        files["configs.svg"] = plots.bar_svg(list(configs), list(configs.values()), "Rows per config", "config")
        for name, data in files.items():
            write_bytes_atomically(join(out_dir, name), data)
        return list(files)

    def preview_item(self, row: dict[str, Any]) -> PreviewItem:
        details = json.loads(row["provenance"]["details"])
        return PreviewItem(
            image=_preview_png(row["image"]["bytes"]),
            image_mime="image/png",
            title=f"{row['renderer']} {row['figure_type']}: {row['topic']}",
            fields={
                "config": row["config"],
                "renderer": row["renderer"],
                "persona": row["persona"],
                "topic": row["topic"],
                "code attempts": str(row["render_attempts"]),
                "QA dropped": str(len(details.get("qa_dropped", []))),
                "example": row["example_id"],
            },
            qa=[
                (f"[{kind}] {q}", a)
                for q, a, kind in zip(
                    row["questions"]["question"], row["questions"]["answer"], row["qa_kinds"], strict=True
                )
            ],
        )

    def card_description(self, args: argparse.Namespace, report: RunReport) -> str:
        renderers = args.renderers.split(",")
        figure_count = sum(len(FIGURE_TYPES[r]) for r in renderers)
        return (
            "Synthetic text-rich images in the manner of PixMo-Docs (CoSyn): for each example a persona (one of "
            f"{len(load_personas())} shipped one-line personas), a renderer ({', '.join(renderers)}) and a figure "
            f"type ({figure_count} in all) are drawn from (seed, index); the LLM then names a topic, writes the "
            "data (CSV or JSON, validated), writes code for the renderer, and the code is rendered in a sandbox. "
            "The topic, data and code prompts each show one worked exchange on another subject (our text, not "
            "the model's); a reply that reuses that example's title, values, rows or code is rejected, so every "
            "kept topic, data table and program is the model's own. "
            f"A render that fails or gives an unusable image (blank, tiny, extreme aspect, cut off) goes back to "
            f"the LLM with the error, up to {args.repair_attempts} times (`render_attempts`, and every attempt in "
            "`provenance.details`). QA pairs are written from the data and code only - the QA step never sees the "
            "image - and kept only when the data supports them: numbers must equal a value of the data or of the "
            "text the code shows, or be computed from the data (totals, counts, means, differences); names must "
            "occur as whole words and 'highest/lowest' answers must name that row; multiple-choice options and "
            "summaries are checked the same way. Each has a kind in `qa_kinds` (short, multiple_choice, yes_no, "
            "summary, unanswerable). A reply cut at the token limit is never kept. Every example that stopped is "
            "in `_rejected/` with its stage and reason.\n\n"
            "PixMo-Docs publishes four configs (charts, tables, diagrams, other). Here the splits are the top "
            "folders as in every subset, and the config is the `config` column: filter on it, e.g. "
            "`ds.filter(lambda r: r['config'] == 'charts')`. The config follows the figure type (an HTML page "
            "may be a table or a receipt).\n\n"
            f"Model: `{self.models(args)[0]}` ({args.llm_backend}). With a small model most examples end as dead "
            "letters and the kept code is simple; see `stats/stage_funnel.svg` and `stats/renderer_success.svg`."
        )


def _preview_png(png: bytes, max_side: int = 900) -> bytes:
    """The render, shrunk for the preview page."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
