"""PixMo-CapQA: a text-only LLM asks and answers its own questions about an image from its caption only.

On the record-flow skeleton (pipelines/common/record_flow.py); the steps are in pipelines/capqa/steps.py:
    caption Parquet files ─ input shards ─ read images ─ Ask (RunInference, LLM) ─ Answer (RunInference, LLM)
      ─ conversation (checks with named reasons) ─ the source shard's split ─ output shards
"""

import argparse
import json
from collections import Counter
from typing import Any

from annotation.capqa import ANSWER_CHECKS, FOCUSES, PROMPTS_VERSION, QUESTION_CHECKS
from pipelines.capqa.options import (
    CapQAOptions,
    add_capqa_arguments,
    input_fingerprint,
    parquet_inputs,
    parse_capqa_options,
    source_split,
)
from pipelines.capqa.steps import Answer, Ask, ReadCaptionImages, build_capqa_row, duplicate_caption, list_captions
from pipelines.common import plots
from pipelines.common.input_plan import InputRef, Listing
from pipelines.common.preview import preview_jpeg
from pipelines.common.record_flow import ModelRound, Reader, Record, RecordSubset
from pipelines.common.rejects import Rejected
from pipelines.common.report import RunReport
from pipelines.common.shards import write_bytes_atomically
from pipelines.common.splits import SplitSpec
from pipelines.common.stage import Stage
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem
from pipelines.common.version import code_version
from schemas import capqa as capqa_schema

__all__ = ["CapQA", "funnels", "parquet_inputs"]


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


class CapQA(RecordSubset):
    name = "capqa"
    summary = "question-answer conversations an LLM writes from Cap captions"
    schema = capqa_schema
    default_num_examples = None  # the captions decide
    plots_without_rows = True  # a weak model may keep nothing: the funnels then say where every pair stopped
    stats_columns = ("messages", "focuses", "rejected_turns", "provenance")
    input_shard_size = 32

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_capqa_arguments(parser)

    def parse(self, args: argparse.Namespace, dry_run: bool = False) -> tuple[CapQAOptions | None, list[str]]:
        return parse_capqa_options(args, code_version(), dry_run)

    def fingerprint(self, options: CapQAOptions) -> dict[str, Any]:
        return {
            "input": options.input_spec,
            "input_files": input_fingerprint(options),
            "columns": [options.column[k] for k in ("caption", "image", "example_id")],
            "settings": options.settings,
            "prompts_version": PROMPTS_VERSION,
            "llm": self.models(options),
        }

    def models(self, options: CapQAOptions) -> list[str]:
        return [options.llm_id]

    def list_inputs(self, options: CapQAOptions) -> Listing:
        return list_captions(self.name, options)

    def duplicate_rejected(self, first: InputRef, other: InputRef) -> Rejected:
        return duplicate_caption(self.name, first, other)

    def reader(self, options: CapQAOptions) -> Reader:
        return ReadCaptionImages(self.name, options)

    def rounds(self, options: CapQAOptions) -> list[ModelRound]:
        return [Ask(self.name, options, options.llm_hints), Answer(self.name, options, options.llm_hints)]

    def build_row(self, record: Record, options: CapQAOptions) -> dict[str, Any] | Rejected:
        return build_capqa_row(Stage(self.name), record, options)

    def split_of(self, row: dict[str, Any], record: Record, options: CapQAOptions) -> str:
        # Cap's split when the caption came from a Cap split folder, else a stable hash of the source id: either
        # way every CapQA row of one Cap image lands on the same split.
        spec = SplitSpec.parse(options.splits)
        path = record.data[0].path
        salt = f"capqa:{options.seed}"
        return source_split(path, spec.names) or spec.split_for_key(row["source_example_id"], salt=salt)

    def plot_stats(self, report: RunReport, out_dir: str) -> list[str]:
        table, rejects = report.table, report.rejects
        rows = table.to_pylist()
        dropped_in_rows = [json.loads(r["provenance"]["details"])["dropped"] for r in rows]
        messages = [r["messages"] for r in rows]
        questions = [m[i] for m in messages for i in range(0, len(m), 2)]
        answers = [m[i] for m in messages for i in range(1, len(m), 2)]
        captions, pairs, by_check = funnels(dropped_in_rows, len(questions), rejects)
        files = {
            "caption_funnel.svg": plots.bar_svg(
                list(captions), list(captions.values()), "Captions left after each stage", "stage"
            ),
            "pair_funnel.svg": plots.bar_svg(
                list(pairs), list(pairs.values()), "Question-answer pairs left after each round", "round"
            ),
        }
        if by_check:
            files["dropped_pairs.svg"] = plots.bar_svg(
                list(by_check), list(by_check.values()), "Dropped pairs by check", "round: check", horizontal=True
            )
        turns = Counter(len(m) // 2 for m in messages)
        first_words = Counter(q.split()[0].lower().strip("?,.'\"") for q in questions if q.split())
        focus_counts = Counter(f for r in rows for f in r["focuses"])
        if rows:
            files["pairs_per_conversation.svg"] = plots.bar_svg(
                [str(k) for k in sorted(turns)], [turns[k] for k in sorted(turns)], "Kept pairs per caption", "pairs"
            )
            files["question_first_words.svg"] = plots.bar_svg(
                [w for w, _ in first_words.most_common(12)],
                [n for _, n in first_words.most_common(12)],
                "Questions by first word",
                "first word",
            )
            files["focuses.svg"] = plots.bar_svg(
                list(FOCUSES),
                [focus_counts[f] for f in FOCUSES],
                "Kept pairs by what they were asked about",
                "focus",
                horizontal=True,
            )
            files["answer_words.svg"] = plots.histogram_svg(
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
            image=preview_jpeg(row["image"]["bytes"]),
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

    def card_description(self, options: CapQAOptions, report: RunReport) -> str:
        settings = options.settings
        return (
            "Conversations about images written by a text-only LLM from each image's caption, as in "
            "PixMo-CapQA: the model never sees the image, so every answer must come from the caption. "
            "`messages` is the published layout: alternating user (question) and assistant (answer) strings.\n\n"
            f"Input: `{options.input_spec}` (column `{options.column['caption']}`). For each caption the LLM "
            f"({', '.join(self.models(options))}, prompts {PROMPTS_VERSION}) first asks one question about each of "
            f"{settings.turns} aspects ({'; '.join(FOCUSES[: settings.turns])}), then answers each kept question "
            "from the caption. A question is dropped when it is malformed, lacks a question mark, copies the "
            "prompt, mentions the description, names nothing, asks about things the caption never names, or "
            "repeats an earlier one. "
            "An answer is dropped when it is malformed or cut off, copies the prompt or the caption, mentions the "
            "description, repeats the question or an earlier answer, names numbers or names absent from the caption, "
            "says nothing, or fewer than 80% of its content words appear in the caption or question. The checks are "
            "lexical: a kept answer is supported by the caption's words, not proven right. Dropped pairs are counted "
            "in `rejected_turns` and listed with reasons in the row's provenance; a caption with fewer than "
            f"{settings.min_turns} kept pair(s) is a dead letter. `stats/pair_funnel.svg`, `stats/dropped_pairs.svg` "
            "and `stats/funnel.json` show where pairs were lost.\n\n"
            "Splits: a row from a Cap shard keeps that shard's split, so Cap's held-out images stay held out; other "
            f"inputs get a stable hash of the source id ({options.splits})."
        )
