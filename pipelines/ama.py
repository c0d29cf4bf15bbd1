"""PixMo-AskModelAnything: annotators' questions and the answers they accepted or wrote, from an app export.

Graph (the export reading is pipelines/points.py's):
    ama.jsonl ─ ReadLines ─ Reshuffle ─ Parse + check ─ GroupBy record_id (first line kept)
      ─ GroupBy image ─ read + decode the image once ─ one row per question, split by the image's sha256
      ─ WriteRowsAndRejects
A question nobody accepted or edited an answer for is a dead letter "no accepted answer"; its rounds stay in
the dead letter's details, so rejected drafts are never silently lost.
"""

import argparse
import json
from collections import Counter
from typing import Any

import apache_beam as beam
import pyarrow as pa
from PIL import ImageDraw

from annotation import exports
from annotation.ama.records import NO_ANSWER, ama_problems, draft_history, final_round
from annotation.exports import AMARecord
from pipelines.common import plots
from pipelines.common.export_source import (
    ExportImage,
    ReadExportRecords,
    RowsFromImages,
    add_export_arguments,
    check_export_arguments,
    export_configs,
    export_paths,
    image_source,
    jpeg,
    thumbnail,
)
from pipelines.common.image_source import REJECTS
from pipelines.common.shards import write_bytes_atomically
from pipelines.common.sink import write_subset_rows
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem, RunContext, Subset
from schemas import ama as ama_schema
from schemas.common import image_value, provenance


class AMARow:
    """AMARecord + its image -> a pixmo-ask-model-anything row (picklable, for the DoFn)."""

    def __init__(self, seed: int, code_version: str) -> None:
        self.seed = seed
        self.code_version = code_version

    def __call__(self, record: AMARecord, image: ExportImage, example_id: str) -> dict[str, Any]:
        index = final_round(record)
        assert index is not None  # records without one are dead letters (annotation.ama.records)
        chosen = record.rounds[index]
        models = sorted({r.model for r in record.rounds if r.model})
        return ama_schema.build_row(
            example_id=example_id,
            image=image_value(image.data, f"{example_id}.{image.extension}"),
            image_sha256=image.sha256,
            source=image_source(image),
            image_url=record.image_url or image.key,
            question=record.question.strip(),
            answer=record.final_answer.strip(),
            draft_history=draft_history(record),
            final_action=chosen.action,
            rounds=len(record.rounds),
            draft_model=chosen.model,
            record_id=record.record_id,
            annotator=record.annotator,
            created_at=record.created_at,
            provenance=provenance(
                pipeline="ama",
                code_version=self.code_version,
                schema_version=ama_schema.SCHEMA_VERSION,
                seed=self.seed,
                models=models,
                details={"image": image.key, "image_changes": image.changes, "final_round": index},
            ),
        )


def draw_card(row: dict[str, Any]) -> bytes:
    image = thumbnail(row["image"]["bytes"])
    draw = ImageDraw.Draw(image)
    draw.text((6, 6), f"{row['final_action']} after {row['rounds']} round(s)", fill="white", stroke_width=2,
              stroke_fill="black")  # fmt: skip
    return jpeg(image)


class AMA(Subset):
    name = "ama"
    summary = "annotator questions answered from OCR + caption + LLM drafts, reviewed by people"
    schema = ama_schema
    default_num_examples = None  # the export decides
    requires_input = True  # an annotation export; there is no embedded default
    stats_columns = ("question", "answer", "final_action", "rounds", "draft_history", "draft_model")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_export_arguments(parser, exports.AMA)

    def check_arguments(self, args: argparse.Namespace) -> list[str]:
        return check_export_arguments(args, exports.AMA, self.name)

    def fingerprint(self, args: argparse.Namespace) -> dict[str, Any]:
        return {"input": export_paths(args.input, exports.AMA)[0]}

    def build(self, pipeline: beam.Pipeline, ctx: RunContext) -> None:
        args = ctx.args
        records_path, export_dir = export_paths(args.input, exports.AMA)
        fetch, decode = export_configs(args)
        source = pipeline | "ReadExport" >> ReadExportRecords(
            self.name, records_path, export_dir, AMARecord, ama_problems
        )
        rows = (
            source["records"]
            | "GroupByImage" >> beam.GroupByKey()
            | "Rows"
            >> beam.ParDo(
                RowsFromImages(
                    self.name,
                    records_path,
                    AMARow(args.seed, ctx.code_version),
                    ama_schema.validate,
                    args.splits,
                    args.seed,
                    fetch,
                    decode,
                )
            ).with_outputs(REJECTS, main="rows")
        )
        rejects = (source[REJECTS], rows[REJECTS]) | "AllRejects" >> beam.Flatten()
        _ = (rows.rows, rejects) | "Write" >> write_subset_rows(self, ctx)

    def plot_stats(self, table: pa.Table, out_dir: str) -> list[str]:
        actions: Counter[str] = Counter()
        for history in table.column("draft_history").to_pylist():
            actions.update(r["action"] for r in json.loads(history))
        rounds = Counter(table.column("rounds").to_pylist())
        finals = Counter(table.column("final_action").to_pylist())
        question_words = [len(q.split()) for q in table.column("question").to_pylist()]
        answer_words = [len(a.split()) for a in table.column("answer").to_pylist()]
        files = {
            "actions.png": plots.bar_png(
                list(exports.AMA_ACTIONS),
                [actions[a] for a in exports.AMA_ACTIONS],
                f"Review rounds by action (final answers: {finals['accepted']} accepted, {finals['edited']} edited)",
                "action",
            ),
            "rounds_per_question.png": plots.bar_png(
                [str(k) for k in sorted(rounds)], [rounds[k] for k in sorted(rounds)], "Rounds per question", "rounds"
            ),
            "question_lengths.png": plots.histogram_png(question_words, 20, "Question length", "words"),
            "answer_lengths.png": plots.histogram_png(answer_words, 20, "Answer length", "words"),
        }
        for name, data in files.items():
            write_bytes_atomically(join(out_dir, name), data)
        summary = {
            "round_actions": dict(actions),
            "final_actions": dict(finals),
            "rounds_per_question": dict(sorted(rounds.items())),
            "draft_models": dict(Counter(table.column("draft_model").to_pylist())),
        }
        write_bytes_atomically(join(out_dir, "ama_stats.json"), json.dumps(summary, indent=1).encode())
        return list(files)

    def preview_item(self, row: dict[str, Any]) -> PreviewItem:
        history = json.loads(row["draft_history"])
        qa = [(row["question"], row["answer"])]
        for r in history:
            note = r["reason"] or r["edited_answer"]
            qa.append((f"round {r['round']}: {r['action']}" + (f" ({note})" if note else ""), r["draft"]))
        return PreviewItem(
            image=draw_card(row),
            image_mime="image/jpeg",
            title=row["question"][:80],
            fields={
                "image": row["image_url"],
                "final": f"{row['final_action']} (round {len(history)} of {row['rounds']})",
                "draft model": row["draft_model"] or "-",
                "annotator": row["annotator"] or "-",
                "record": row["record_id"],
                "example": row["example_id"],
            },
            qa=qa,
        )

    def card_description(self, args: argparse.Namespace) -> str:
        return (
            "Questions people asked about real images, with answers they reviewed, following "
            "PixMo-AskModelAnything: in the annotation app an annotator asks a question; a text-only LLM drafts "
            "an answer from the text OCR finds in the image and the image's caption (it never sees the image); "
            "the annotator accepts the draft, rejects it with a reason (and asks for another), or edits it. "
            "`question` and `answer` are the published columns; `answer` is the accepted draft or the "
            "annotator's edit (`final_action`). `draft_history` keeps every round as JSON (draft, action, "
            "reason, edited answer, drafting model, OCR text, time); `draft_model` is the LLM of the final "
            "round.\n\n"
            f"Input: the export's `{exports.AMA}`. Every line becomes a row or a dead letter in `_rejected/` "
            f"with its reason; questions whose drafts were all rejected are dead letters '{NO_ANSWER}' (the "
            "dead letter keeps the whole record, rounds included). "
            "Unparsable lines, empty questions, unknown actions, a final answer "
            "that matches no accepted or edited round, repeated record ids and unreadable images are too.\n\n"
            f"Splits ({args.splits}) come from a stable hash of the image's sha256 with the seed, so every "
            "question about one image is in the same split."
        )
