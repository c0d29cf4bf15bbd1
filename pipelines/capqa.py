"""PixMo-CapQA: a text-only LLM asks and answers its own questions about an image from its caption only.

Graph (the image bytes travel only with the plan, never through the LLM rounds):
    caption Parquet files ─ ReadCaptions (only the needed columns) ─ first of each id ─ Reshuffle ─ Plan ─┐
      ├─ ask requests ─ RunInference(LLM) ─┐
      ├─ captions ─────────────────────────┴─ CoGroupByKey ─ ReadQuestions ─ answer requests ─ RunInference(LLM) ─┐
      │                                                                     └─ asked turns ─────────────────────┤
      └─ plans (record with image) ──────────────────────────────────────────────────────── CoGroupByKey ─ Build ─ sink
Every input row becomes a row or a dead letter (stages: input, duplicate, llm/qa: too few pairs survived the
filters, validate); pairs dropped inside a kept conversation are counted in the row and listed in its provenance.
"""

import argparse
import hashlib
import io
import json
import posixpath
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
from PIL import Image

from annotation.capqa import (
    ANSWER_CHECKS,
    FOCUSES,
    PROMPTS_VERSION,
    QUESTION_CHECKS,
    QASettings,
    answer_request,
    ask_requests,
    build_conversation,
    read_question,
)
from inference.llm import LLMConfig, LLMModelHandler, LLMResult, add_llm_arguments, llm_config_from_args
from inference.llm.models import model_id_for
from pipelines.common import plots
from pipelines.common.image_source import REJECTS
from pipelines.common.options import threads_per_worker
from pipelines.common.rejects import rejected
from pipelines.common.resources import add_accelerator_arguments, with_step_hints
from pipelines.common.shards import write_bytes_atomically
from pipelines.common.sink import write_subset_rows
from pipelines.common.splits import SplitSpec
from pipelines.common.staging import MANIFEST, join
from pipelines.common.subset import PreviewItem, RunContext, Subset
from schemas import capqa as capqa_schema
from schemas.common import provenance, sha256_hex

PLANS = "plans"
CAPTIONS = "captions"
ASKED = "asked"


def _is_data(relative: str) -> bool:
    """Dead letters (_rejected), stats files (_shards) and hidden staging folders are not data."""
    return not any(part.startswith(("_", ".")) for part in relative.replace("\\", "/").split("/")[:-1])


def parquet_inputs(spec: str) -> list[tuple[str, int]]:
    """(path, bytes) of the Parquet files a spec names: a file, a glob, or a folder. A published subset folder
    (with manifest.json) gives the shards its manifest lists; any other folder gives every Parquet file under it."""
    if spec.endswith(".parquet") or any(c in spec for c in "*?["):
        return sorted((m.path, m.size_in_bytes) for m in FileSystems.match([spec])[0].metadata_list)
    root = spec.rstrip("/")
    manifest_path = join(root, MANIFEST)
    if FileSystems.exists(manifest_path):
        with FileSystems.open(manifest_path) as handle:
            listed = json.loads(handle.read())["files"]
        shards = [f["path"] for f in listed if f["path"].endswith(".parquet") and _is_data(f["path"])]
        wanted = [join(root, *shard.split("/")) for shard in shards]
        found = {m.path: m.size_in_bytes for r in FileSystems.match(wanted) for m in r.metadata_list} if wanted else {}
        missing = [p for p in wanted if p not in found]
        if missing:
            raise ValueError(f"{manifest_path} lists {len(missing)} shard(s) that are missing, e.g. {missing[0]}")
        return sorted(found.items())
    matches = FileSystems.match([join(root, "**.parquet")])[0].metadata_list
    return sorted((m.path, m.size_in_bytes) for m in matches if _is_data(m.path[len(root) + 1 :]))


def source_split(path: str, split_names: tuple[str, ...]) -> str | None:
    """The split a Cap shard belongs to (its folder name), so CapQA keeps Cap's held-out images held out."""
    folder = posixpath.basename(posixpath.dirname(path.replace("\\", "/")))
    return folder if folder in split_names else None


class ReadCaptions(beam.DoFn):
    """One Parquet file -> (example_id, caption record) per row, reading only the columns CapQA needs."""

    def __init__(self, subset: str, columns: dict[str, str]) -> None:
        self.subset = subset
        self.columns = columns  # our name -> the file's column name

    def process(self, path: str) -> Iterator[Any]:
        try:
            handle = FileSystems.open(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a dead letter, not a crash
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, path, "input", f"unreadable file: {exc}"))
            return
        with handle:
            yield from self._rows(path, handle)

    def _rows(self, path: str, handle: Any) -> Iterator[Any]:
        try:
            parquet = pq.ParquetFile(handle)
        except Exception as exc:  # noqa: BLE001 - not Parquet: a dead letter
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, path, "input", f"unreadable Parquet: {exc}"))
            return
        present = set(parquet.schema_arrow.names)
        missing = [c for key, c in self.columns.items() if key in ("caption", "image") and c not in present]
        if missing:
            reason = f"missing columns {missing} (see --caption-column / --image-column)"
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, path, "input", reason))
            return
        wanted = [c for c in self.columns.values() if c in present]
        number = 0
        for batch in parquet.iter_batches(columns=wanted, batch_size=64):
            for row in batch.to_pylist():
                number += 1
                yield from self._record(path, number, {key: row.get(column) for key, column in self.columns.items()})

    def _record(self, path: str, number: int, record: dict[str, Any]) -> Iterator[Any]:
        image = record["image"] or {}
        image_bytes = image.get("bytes") if isinstance(image, dict) else image
        where = f"{path}#row{number}"
        if not image_bytes:
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, where, "input", "no image bytes"))
            return
        caption = record["caption"]
        if not isinstance(caption, str) or not caption.strip():
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, where, "input", "empty or missing caption"))
            return
        source_id = record.get("example_id") or sha256_hex(image_bytes)
        yield (
            f"capqa-{source_id}",
            {
                "source_example_id": str(source_id),
                "source": where,
                "path": path,
                "caption": caption.strip(),
                "image": {"bytes": image_bytes, "path": f"capqa-{source_id}.{image_extension(image_bytes)}"},
                "image_sha256": record.get("image_sha256") or sha256_hex(image_bytes),
                "image_url": record.get("image_url") or "",
            },
        )


def image_extension(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    return "img"


def first_of_each_id(subset: str):
    """(example_id, [records]) -> the record from the first file/row; later copies are dead letters."""

    def keep_first(element: tuple[str, Iterable[dict[str, Any]]]) -> Iterator[Any]:
        example_id, records = element
        ordered = sorted(records, key=lambda r: r["source"])
        yield example_id, ordered[0]
        for extra in ordered[1:]:
            reason = f"duplicate source example {ordered[0]['source_example_id']} (kept {ordered[0]['source']})"
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(subset, extra["source"], "duplicate", reason))

    return keep_first


class PlanConversation(beam.DoFn):
    """A caption record -> its ask requests (one per focus); the caption alone for round two; the record itself
    (with the image) for the final join."""

    def __init__(self, settings: QASettings, seed: int) -> None:
        self.settings = settings
        self.seed = seed

    def process(self, element: tuple[str, dict[str, Any]]) -> Iterator[Any]:
        example_id, record = element
        yield beam.pvalue.TaggedOutput(PLANS, (example_id, record))
        yield beam.pvalue.TaggedOutput(CAPTIONS, (example_id, record["caption"]))
        for request in ask_requests(example_id, record["caption"], self.settings, self.seed):
            yield example_id, request


class ReadQuestions(beam.DoFn):
    """The caption + its round-one replies -> answer requests for the kept questions, and every turn as asked."""

    def __init__(self, settings: QASettings, seed: int) -> None:
        self.settings = settings
        self.seed = seed

    def process(self, element: tuple[str, dict[str, list[Any]]]) -> Iterator[Any]:
        example_id, joined = element
        (caption,) = joined[CAPTIONS]
        asked = [read_question(caption, result) for result in joined["replies"]]
        yield beam.pvalue.TaggedOutput(ASKED, (example_id, asked))
        for item in asked:
            if not item.dropped:
                yield example_id, answer_request(example_id, caption, item, self.settings, self.seed)


class BuildConversation(beam.DoFn):
    """The record + its asked turns + the answers -> a row (split, row), or a dead letter when too few pairs
    survived."""

    def __init__(self, subset: str, splits: str, seed: int, settings: QASettings, code_version: str) -> None:
        self.subset = subset
        self.splits = SplitSpec.parse(splits)
        self.seed = seed
        self.settings = settings
        self.code_version = code_version

    def process(self, element: tuple[str, dict[str, list[Any]]]) -> Iterator[Any]:
        example_id, joined = element
        (record,) = joined[PLANS]
        (asked,) = joined[ASKED]
        answers: list[LLMResult] = list(joined["answers"])
        conversation = build_conversation(record["caption"], asked, answers)
        pairs = len(conversation.messages) // 2
        if pairs < self.settings.min_turns:
            checks = Counter(d["check"] for d in conversation.dropped)
            stage = "llm" if set(checks) == {"llm error"} else "qa"
            summary = "; ".join(f"{n}x {check}" for check, n in checks.most_common())
            reason = (
                f"{pairs} question-answer pair(s) survived the filters, {self.settings.min_turns} needed ({summary})"
            )
            yield beam.pvalue.TaggedOutput(
                REJECTS,
                rejected(
                    self.subset,
                    record["source"],
                    stage,
                    reason,
                    example_id=example_id,
                    kept_pairs=pairs,
                    dropped=conversation.dropped,
                ),
            )
            return
        model = next((r.model_id for r in answers if r.model_id), "")
        row = {
            "example_id": example_id,
            "image": record["image"],
            "image_sha256": record["image_sha256"],
            "source": "capqa",
            "image_url": record["image_url"],
            "messages": conversation.messages,
            "caption": record["caption"],
            "source_example_id": record["source_example_id"],
            "focuses": conversation.focuses,
            "rejected_turns": len(conversation.dropped),
            "llm_model": model,
            "provenance": provenance(
                pipeline=self.subset,
                code_version=self.code_version,
                schema_version=capqa_schema.SCHEMA_VERSION,
                seed=self.seed,
                models=[model],
                prompts_version=PROMPTS_VERSION,
                details={"input": record["source"], "dropped": conversation.dropped},
            ),
        }
        # Cap's split when the caption came from a Cap split folder, else a stable hash of the source id: either
        # way every CapQA row of one Cap image lands on the same split.
        split = source_split(record["path"], self.splits.names) or self.splits.split_for_key(
            record["source_example_id"], salt=f"capqa:{self.seed}"
        )
        yield split, row


def read_rejects(rejected_dir: str) -> list[dict[str, Any]]:
    """The dead letters of a run (JSON lines), wherever the staging folder lives."""
    records = []
    for meta in FileSystems.match([join(rejected_dir, "*.jsonl")])[0].metadata_list:
        with FileSystems.open(meta.path) as handle:
            records += [json.loads(line) for line in handle.read().decode().splitlines() if line.strip()]
    return records


def funnels(dropped_in_rows: list[list[dict[str, Any]]], pairs_in_rows: int, rejects: list[dict[str, Any]]):
    """Captions left after each stage, pairs left after each round, and dropped pairs per check.

    Pairs are counted over the conversations that reached the LLM: kept rows and qa/llm dead letters."""
    by_stage = Counter(r["stage"] for r in rejects)
    rows = len(dropped_in_rows)
    captions = {"caption rows read": rows + len(rejects)}
    left = captions["caption rows read"]
    for stage, label in (("input", "readable, with caption"), ("duplicate", "unique"), ("qa+llm", "enough pairs")):
        left -= sum(by_stage[s] for s in stage.split("+"))
        captions[label] = left
    captions["valid rows"] = rows
    failed = [r["details"] for r in rejects if r["stage"] in ("qa", "llm")]
    dropped = [d for conv in dropped_in_rows for d in conv] + [d for r in failed for d in r.get("dropped", [])]
    kept_in_failed = sum(r.get("kept_pairs", 0) for r in failed)
    asked = pairs_in_rows + kept_in_failed + len(dropped)
    question_drops = sum(d["stage"] == "question" for d in dropped)
    pairs = {
        "pairs asked": asked,
        "question kept": asked - question_drops,
        "answer kept": asked - len(dropped),
        "in published rows": pairs_in_rows,
    }
    checks = Counter(f"{d['stage']}: {d['check']}" for d in dropped)
    order = ["question: llm error", "question: malformed question"] + [f"question: {c}" for c in QUESTION_CHECKS]
    order += ["answer: llm error", "answer: malformed answer"] + [f"answer: {c}" for c in ANSWER_CHECKS]
    by_check = {c: checks[c] for c in order if checks[c]} | {c: n for c, n in checks.items() if c not in order}
    return captions, pairs, by_check


class CapQA(Subset):
    name = "capqa"
    summary = "question-answer conversations an LLM writes from Cap captions"
    schema = capqa_schema
    default_num_examples = None  # the captions decide
    plots_without_rows = True  # a weak model may keep nothing: the funnels then say where every pair stopped
    stats_columns = ("messages", "focuses", "rejected_turns", "provenance")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        defaults = QASettings()
        parser.add_argument(
            "--input",
            default=None,
            help="Captions to ask about: a Cap subset folder (default: OUTPUT/cap; its manifest.json lists the "
            "shards), any folder of Parquet files, a Parquet file or a glob; local or gs://. Any caption Parquet "
            "works with --caption-column/--image-column.",
        )
        parser.add_argument("--caption-column", default="caption", help="Column with the caption (default: caption).")
        parser.add_argument(
            "--image-column", default="image", help="Image column, struct<bytes,path> or bytes (default: image)."
        )
        parser.add_argument(
            "--id-column",
            default="example_id",
            help="Column with a stable id of the source row (default: example_id; else the image's sha256).",
        )
        parser.add_argument(
            "--turns",
            type=int,
            default=defaults.turns,
            help=f"Question-answer pairs asked for per caption, each about a different aspect, in this order: "
            f"{'; '.join(FOCUSES)} (default: %(default)s).",
        )
        parser.add_argument(
            "--min-turns",
            type=int,
            default=defaults.min_turns,
            help="Fewer surviving pairs than this and the caption is a dead letter (default: %(default)s).",
        )
        parser.add_argument(
            "--question-tokens",
            type=int,
            default=defaults.question_tokens,
            help="Max new tokens of each question call (default: %(default)s).",
        )
        parser.add_argument(
            "--answer-tokens",
            type=int,
            default=defaults.answer_tokens,
            help="Max new tokens of each answer call; an answer cut off keeps its complete sentences "
            "(default: %(default)s).",
        )
        parser.add_argument(
            "--qa-temperature",
            type=float,
            default=defaults.temperature,
            help="Sampling temperature of both calls (default: %(default)s, greedy; seeded by --seed otherwise).",
        )
        add_llm_arguments(parser)
        add_accelerator_arguments(parser, "llm")

    def input_spec(self, args: argparse.Namespace) -> str:
        return args.input or join(args.output, "cap")

    def settings(self, args: argparse.Namespace) -> QASettings:
        return QASettings(
            turns=args.turns,
            question_tokens=args.question_tokens,
            answer_tokens=args.answer_tokens,
            temperature=args.qa_temperature,
            min_turns=args.min_turns,
        )

    def llm_config(self, args: argparse.Namespace) -> LLMConfig:
        config = llm_config_from_args(args)
        if config.backend == "transformers":
            config = replace(config, cpu_threads=threads_per_worker(config.cpu_threads, args.workers))
        return config

    def check_arguments(self, args: argparse.Namespace) -> list[str]:
        problems = self.settings(args).validate() + llm_config_from_args(args).validate()
        if args.num_examples is not None:
            problems.append("--num-examples does not apply to capqa: the captions decide how many examples there are")
        try:
            if SplitSpec.parse(args.splits).exact:
                problems.append("--splits: capqa assigns rows by Cap's split or a stable hash, so give fractions")
        except ValueError:
            pass  # the common checks report a malformed --splits
        spec = self.input_spec(args)
        try:
            found = parquet_inputs(spec)
        except Exception as exc:  # noqa: BLE001 - an unreachable or broken input is a usage problem, reported up front
            return problems + [f"--input {spec}: {exc}"]
        if not found:
            hint = "" if args.input else " (build Cap first: `beam_runner.py cap --output OUTPUT`, or give --input)"
            problems.append(f"no Parquet files at {spec}{hint}")
        return problems

    def fingerprint(self, args: argparse.Namespace) -> dict[str, Any]:
        files = parquet_inputs(self.input_spec(args))
        return {
            "input": self.input_spec(args),
            # The files' names and sizes: new Cap shards make a new CapQA run.
            "input_files": hashlib.sha256(json.dumps(files).encode()).hexdigest()[:16],
            "columns": [args.caption_column, args.image_column, args.id_column],
            "settings": self.settings(args),
            "prompts_version": PROMPTS_VERSION,
            "llm": self.models(args),
        }

    def models(self, args: argparse.Namespace) -> list[str]:
        if args.llm_backend == "transformers":
            return [model_id_for(args.llm_model)]
        return [args.llm_model or f"{args.llm_backend}:{args.llm_url or 'default'}"]

    def build(self, pipeline: beam.Pipeline, ctx: RunContext) -> None:
        args = ctx.args
        settings = self.settings(args)
        columns = {
            "caption": args.caption_column,
            "image": args.image_column,
            "example_id": args.id_column,
            "image_sha256": "image_sha256",
            "image_url": "image_url",
        }
        files = [path for path, _ in parquet_inputs(self.input_spec(args))]
        read = (
            pipeline
            | "Files" >> beam.Create(files)
            | "ReadCaptions" >> beam.ParDo(ReadCaptions(self.name, columns)).with_outputs(REJECTS, main="records")
        )
        unique = (
            read.records
            | "GroupIds" >> beam.GroupByKey()
            | "FirstOfEachId" >> beam.FlatMap(first_of_each_id(self.name)).with_outputs(REJECTS, main="records")
        )
        planned = (
            unique.records
            | "Spread" >> beam.Reshuffle()
            | "Plan" >> beam.ParDo(PlanConversation(settings, args.seed)).with_outputs(PLANS, CAPTIONS, main="requests")
        )
        handler = KeyedModelHandler(LLMModelHandler(self.llm_config(args)))
        replies = planned.requests | "Ask" >> with_step_hints(RunInference(handler), args, "llm")
        questions = (
            {CAPTIONS: planned[CAPTIONS], "replies": replies}
            | "JoinQuestions" >> beam.CoGroupByKey()
            | "ReadQuestions" >> beam.ParDo(ReadQuestions(settings, args.seed)).with_outputs(ASKED, main="requests")
        )
        answers = questions.requests | "Answer" >> with_step_hints(RunInference(handler), args, "llm")
        built = (
            {PLANS: planned[PLANS], ASKED: questions[ASKED], "answers": answers}
            | "JoinAnswers" >> beam.CoGroupByKey()
            | "Build"
            >> beam.ParDo(
                BuildConversation(self.name, args.splits, args.seed, settings, ctx.code_version)
            ).with_outputs(REJECTS, main="rows")
        )
        rejects = (read[REJECTS], unique[REJECTS], built[REJECTS]) | "AllRejects" >> beam.Flatten()
        _ = (built.rows, rejects) | "Write" >> write_subset_rows(self, ctx)

    def plot_stats(self, table: pa.Table, out_dir: str) -> list[str]:
        rejects = read_rejects(join(posixpath.dirname(out_dir.rstrip("/")), "_rejected"))
        rows = table.to_pylist()
        dropped_in_rows = [json.loads(r["provenance"]["details"])["dropped"] for r in rows]
        messages = [r["messages"] for r in rows]
        questions = [m[i] for m in messages for i in range(0, len(m), 2)]
        answers = [m[i] for m in messages for i in range(1, len(m), 2)]
        captions, pairs, by_check = funnels(dropped_in_rows, len(questions), rejects)
        files = {
            "caption_funnel.png": plots.bar_png(
                list(captions), list(captions.values()), "Captions left after each stage", "stage"
            ),
            "pair_funnel.png": plots.bar_png(
                list(pairs), list(pairs.values()), "Question-answer pairs left after each round", "round"
            ),
        }
        if by_check:
            files["dropped_pairs.png"] = plots.bar_png(
                list(by_check), list(by_check.values()), "Dropped pairs by check", "round: check", horizontal=True
            )
        turns = Counter(len(m) // 2 for m in messages)
        first_words = Counter(q.split()[0].lower().strip("?,.'\"") for q in questions if q.split())
        focus_counts = Counter(f for r in rows for f in r["focuses"])
        if rows:
            files["pairs_per_conversation.png"] = plots.bar_png(
                [str(k) for k in sorted(turns)], [turns[k] for k in sorted(turns)], "Kept pairs per caption", "pairs"
            )
            files["question_first_words.png"] = plots.bar_png(
                [w for w, _ in first_words.most_common(12)],
                [n for _, n in first_words.most_common(12)],
                "Questions by first word",
                "first word",
            )
            files["focuses.png"] = plots.bar_png(
                list(FOCUSES),
                [focus_counts[f] for f in FOCUSES],
                "Kept pairs by what they were asked about",
                "focus",
                horizontal=True,
            )
            files["answer_words.png"] = plots.histogram_png(
                [len(a.split()) for a in answers], bins=20, title="Answer length", xlabel="words"
            )
        for name, data in files.items():
            write_bytes_atomically(join(out_dir, name), data)
        summary = {
            "caption_funnel": captions,
            "pair_funnel": pairs,
            "dropped_pairs_by_check": by_check,
            "pairs_per_conversation": {str(k): turns[k] for k in sorted(turns)},
            "focuses": {f: focus_counts[f] for f in FOCUSES},
            "question_first_words": dict(first_words.most_common(20)),
        }
        write_bytes_atomically(join(out_dir, "funnel.json"), json.dumps(summary, indent=1).encode())
        return list(files)

    def preview_item(self, row: dict[str, Any]) -> PreviewItem:
        messages = row["messages"]
        dropped = json.loads(row["provenance"]["details"])["dropped"]
        return PreviewItem(
            image=_preview_jpeg(row["image"]["bytes"]),
            image_mime="image/jpeg",
            title=f"{len(messages) // 2} pair(s) from {row['source_example_id']}",
            fields={
                "caption": row["caption"],
                "asked about": "; ".join(row["focuses"]),
                "dropped pairs": "; ".join(f"{d['focus']}: {d['check']}" for d in dropped) or "none",
                "llm": row["llm_model"],
            },
            qa=[(messages[i], messages[i + 1]) for i in range(0, len(messages), 2)],
        )

    def card_description(self, args: argparse.Namespace) -> str:
        return (
            "Conversations about images written by a text-only LLM from each image's caption, as in "
            "PixMo-CapQA: the model never sees the image, so every answer must come from the caption. "
            "`messages` is the published layout: alternating user (question) and assistant (answer) strings.\n\n"
            f"Input: `{self.input_spec(args)}` (column `{args.caption_column}`). For each caption the LLM "
            f"({', '.join(self.models(args))}, prompts {PROMPTS_VERSION}) first asks one question about each of "
            f"{args.turns} aspects ({'; '.join(FOCUSES[: args.turns])}), then answers each kept question from the "
            "caption. A question is dropped when it is malformed, lacks a question mark, copies the prompt, mentions "
            "the description, names nothing, asks about things the caption never names, or repeats an earlier one. "
            "An answer is dropped when it is malformed or cut off, copies the prompt or the caption, mentions the "
            "description, repeats the question or an earlier answer, names numbers or names absent from the caption, "
            "says nothing, or fewer than 80% of its content words appear in the caption or question. The checks are "
            "lexical: a kept answer is supported by the caption's words, not proven right. Dropped pairs are counted "
            "in `rejected_turns` and listed with reasons in the row's provenance; a caption with fewer than "
            f"{args.min_turns} kept pair(s) is a dead letter. `stats/pair_funnel.png`, `stats/dropped_pairs.png` and "
            "`stats/funnel.json` show where pairs were lost.\n\n"
            "Splits: a row from a Cap shard keeps that shard's split, so Cap's held-out images stay held out; other "
            f"inputs get a stable hash of the source id ({args.splits})."
        )


def _preview_jpeg(data: bytes, max_side: int = 640) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
