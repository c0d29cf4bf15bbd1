"""PixMo-CapQA: a text-only LLM asks and answers its own questions about an image from its caption only.

Graph:
    caption Parquet files ─ ReadCaptions (only the needed columns) ─ Reshuffle ─ PlanConversation ─┬─ requests
      ─ RunInference(LLM, keyed by example) ─ CoGroupByKey with the plans ─ BuildConversation ─ WriteRowsAndRejects
Every input row becomes a row or a dead letter (stages: input, duplicate, llm/qa: no pair survived the filters,
validate); pairs dropped inside a kept conversation are counted in the row and listed in its provenance.
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

from annotation.capqa import FOCUSES, PROMPTS_VERSION, QASettings, build_conversation, qa_requests
from inference.llm import LLMConfig, LLMModelHandler, LLMResult, add_llm_arguments, llm_config_from_args
from inference.llm.models import model_id_for
from pipelines.common import plots
from pipelines.common.image_source import REJECTS
from pipelines.common.options import threads_per_worker
from pipelines.common.rejects import rejected
from pipelines.common.shards import write_bytes_atomically
from pipelines.common.sink import write_subset_rows
from pipelines.common.splits import SplitSpec
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem, RunContext, Subset
from schemas import capqa as capqa_schema
from schemas.common import provenance, sha256_hex

PLANS = "plans"


def parquet_inputs(spec: str) -> list[tuple[str, int]]:
    """(path, bytes) of the Parquet files a spec names: a file, a glob, or a subset folder (its split folders;
    dead letters, reports and hidden staging folders are not data)."""
    if spec.endswith(".parquet") or any(c in spec for c in "*?["):
        patterns = [spec]
    else:
        root = spec.rstrip("/")
        patterns = [join(root, "*.parquet"), join(root, "*", "*.parquet")]
    found = {}
    for result in FileSystems.match(patterns):
        for meta in result.metadata_list:
            parts = meta.path.replace("\\", "/").split("/")
            if not any(part.startswith(("_", ".")) for part in parts[-2:]):
                found[meta.path] = meta.size_in_bytes
    return sorted(found.items())


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
            parquet = pq.ParquetFile(handle)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a dead letter, not a crash
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
                record = {key: row.get(column) for key, column in self.columns.items()}
                image = record["image"] or {}
                image_bytes = image.get("bytes") if isinstance(image, dict) else image
                where = f"{path}#row{number}"
                if not image_bytes:
                    yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, where, "input", "no image bytes"))
                    continue
                if not (record["caption"] or "").strip():
                    yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, where, "input", "empty caption"))
                    continue
                source_id = record.get("example_id") or sha256_hex(image_bytes)
                yield (
                    f"capqa-{source_id}",
                    {
                        "source_example_id": source_id,
                        "source": where,
                        "path": path,
                        "caption": record["caption"].strip(),
                        "image": {"bytes": image_bytes, "path": f"capqa-{source_id}.{image_extension(image_bytes)}"},
                        "image_sha256": record.get("image_sha256") or sha256_hex(image_bytes),
                        "image_url": record.get("image_url") or "",
                    },
                )
        handle.close()


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
    """A caption record -> its LLM requests (one per focus), and the record itself for the join."""

    def __init__(self, settings: QASettings, seed: int) -> None:
        self.settings = settings
        self.seed = seed

    def process(self, element: tuple[str, dict[str, Any]]) -> Iterator[Any]:
        example_id, record = element
        yield beam.pvalue.TaggedOutput(PLANS, (example_id, record))
        for request in qa_requests(example_id, record["caption"], self.settings, self.seed):
            yield example_id, request


class BuildConversation(beam.DoFn):
    """The record + its LLM results -> a row (split, row), or a dead letter when no pair survived."""

    def __init__(self, subset: str, splits: str, seed: int, settings: QASettings, code_version: str) -> None:
        self.subset = subset
        self.splits = SplitSpec.parse(splits)
        self.seed = seed
        self.settings = settings
        self.code_version = code_version

    def process(self, element: tuple[str, dict[str, list[Any]]]) -> Iterator[Any]:
        example_id, joined = element
        (record,) = joined[PLANS]
        results: list[LLMResult] = list(joined["results"])
        conversation = build_conversation(record["caption"], results)
        reasons = Counter(r["reason"] for r in conversation.rejected)
        if len(conversation.messages) // 2 < self.settings.min_turns:
            stage = "llm" if results and all(not r.ok for r in results) else "qa"
            summary = "; ".join(f"{n}x {reason}" for reason, n in reasons.most_common())
            yield beam.pvalue.TaggedOutput(
                REJECTS,
                rejected(
                    self.subset,
                    record["source"],
                    stage,
                    f"no question-answer pair survived the filters ({summary})",
                    example_id=example_id,
                    dropped=conversation.rejected,
                ),
            )
            return
        model = next((r.model_id for r in results if r.model_id), "")
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
            "rejected_turns": len(conversation.rejected),
            "llm_model": model,
            "provenance": provenance(
                pipeline=self.subset,
                code_version=self.code_version,
                schema_version=capqa_schema.SCHEMA_VERSION,
                seed=self.seed,
                models=[model],
                prompts_version=PROMPTS_VERSION,
                details={"input": record["source"], "dropped": conversation.rejected},
            ),
        }
        split = source_split(record["path"], self.splits.names) or self.splits.split_for_key(
            record["source_example_id"], salt=f"capqa:{self.seed}"
        )
        yield split, row


class CapQA(Subset):
    name = "capqa"
    summary = "question-answer conversations an LLM writes from Cap captions"
    schema = capqa_schema
    default_num_examples = None  # the captions decide
    stats_columns = ("messages", "focuses", "rejected_turns", "caption")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        defaults = QASettings()
        parser.add_argument(
            "--input",
            default=None,
            help="Captions to ask about: a Cap subset folder (default: OUTPUT/cap), a Parquet file or a glob; "
            "local or gs://. Any caption Parquet works with --caption-column/--image-column.",
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
            "--qa-tokens", type=int, default=defaults.max_new_tokens, help="Tokens per pair (default: %(default)s)."
        )
        parser.add_argument(
            "--qa-temperature",
            type=float,
            default=defaults.temperature,
            help="Sampling temperature (default: %(default)s, greedy).",
        )
        add_llm_arguments(parser)

    def input_spec(self, args: argparse.Namespace) -> str:
        return args.input or join(args.output, "cap")

    def settings(self, args: argparse.Namespace) -> QASettings:
        return QASettings(
            turns=args.turns, max_new_tokens=args.qa_tokens, temperature=args.qa_temperature, min_turns=args.min_turns
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
        except Exception as exc:  # noqa: BLE001 - an unreachable input is a usage problem, reported up front
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
            "settings": [args.turns, args.min_turns, args.qa_tokens, args.qa_temperature],
            "prompts_version": PROMPTS_VERSION,
            "llm": self.models(args),
        }

    def models(self, args: argparse.Namespace) -> list[str]:
        if args.llm_backend == "transformers":
            return [model_id_for(args.llm_model)]
        return [args.llm_model or f"{args.llm_backend}:{args.llm_url or 'default'}"]

    def build(self, pipeline: beam.Pipeline, ctx: RunContext) -> None:
        args = ctx.args
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
            | "Plan"
            >> beam.ParDo(PlanConversation(self.settings(args), args.seed)).with_outputs(PLANS, main="requests")
        )
        results = planned.requests | "AskAndAnswer" >> RunInference(
            KeyedModelHandler(LLMModelHandler(self.llm_config(args)))
        )
        built = (
            {PLANS: planned[PLANS], "results": results}
            | "Join" >> beam.CoGroupByKey()
            | "Build"
            >> beam.ParDo(
                BuildConversation(self.name, args.splits, args.seed, self.settings(args), ctx.code_version)
            ).with_outputs(REJECTS, main="rows")
        )
        rejects = (read[REJECTS], unique[REJECTS], built[REJECTS]) | "AllRejects" >> beam.Flatten()
        _ = (built.rows, rejects) | "Write" >> write_subset_rows(self, ctx)

    def plot_stats(self, table: pa.Table, out_dir: str) -> list[str]:
        messages = table.column("messages").to_pylist()
        focuses = [f for row in table.column("focuses").to_pylist() for f in row]
        questions = [m[i] for m in messages for i in range(0, len(m), 2)]
        answers = [m[i] for m in messages for i in range(1, len(m), 2)]
        pairs = Counter(len(m) // 2 for m in messages)
        first_words = Counter(q.split()[0].lower().strip("?,.") for q in questions if q.split())
        focus_counts = Counter(focuses)
        files = {
            "pairs_per_conversation.png": plots.bar_png(
                [str(k) for k in sorted(pairs)], [pairs[k] for k in sorted(pairs)], "Kept pairs per caption", "pairs"
            ),
            "question_types.png": plots.bar_png(
                [w for w, _ in first_words.most_common(12)],
                [n for _, n in first_words.most_common(12)],
                "Questions by first word",
                "",
            ),
            "focuses.png": plots.bar_png(
                list(FOCUSES), [focus_counts[f] for f in FOCUSES], "Kept pairs by what they were asked about", ""
            ),
            "answer_words.png": plots.histogram_png(
                [len(a.split()) for a in answers], bins=20, title="Answer length", xlabel="words"
            ),
        }
        for name, data in files.items():
            write_bytes_atomically(join(out_dir, name), data)
        summary = {
            "conversations": len(messages),
            "pairs": len(questions),
            "pairs_per_conversation": dict(sorted(pairs.items())),
            "rejected_turns_in_kept_rows": int(sum(table.column("rejected_turns").to_pylist())),
            "focuses": {f: focus_counts[f] for f in FOCUSES},
        }
        write_bytes_atomically(join(out_dir, "capqa_stats.json"), json.dumps(summary, indent=1).encode())
        return list(files)

    def preview_item(self, row: dict[str, Any]) -> PreviewItem:
        messages = row["messages"]
        return PreviewItem(
            image=_preview_jpeg(row["image"]["bytes"]),
            image_mime="image/jpeg",
            title=f"{len(messages) // 2} pair(s) from {row['source_example_id']}",
            fields={
                "caption": row["caption"],
                "asked about": "; ".join(row["focuses"]),
                "dropped pairs": str(row["rejected_turns"]),
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
            f"({', '.join(self.models(args))}, prompts {PROMPTS_VERSION}) is asked for one question-answer pair "
            f"about each of {args.turns} aspects ({'; '.join(FOCUSES[: args.turns])}). A pair is dropped when it "
            "is malformed, its question is a duplicate or lacks a question mark, it copies the prompt, its answer "
            "repeats the question, names numbers absent from the caption, or fewer than 60% of its content words "
            "appear in the caption (the checks are lexical: a kept answer is supported by the caption's words, "
            "not proven right). Dropped pairs are counted in `rejected_turns` and listed with reasons in the row's "
            f"provenance; a caption with fewer than {args.min_turns} kept pair(s) is a dead letter.\n\n"
            "Splits: a row from a Cap shard keeps that shard's split, so Cap's held-out images stay held out; other "
            f"inputs get a stable hash of the source id ({args.splits})."
        )


def _preview_jpeg(data: bytes, max_side: int = 640) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
