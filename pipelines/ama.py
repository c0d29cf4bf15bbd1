"""PixMo-AskModelAnything: annotators' questions and the answers they accepted or wrote, from an app export.

On the record-flow skeleton, with the export reading shared with pipelines/points.py:
    ama.jsonl ─ parse + check, first line of each record_id ─ input shards grouped by image
      ─ read + decode each image once ─ one row per question, split by the image's sha256 ─ output shards
A question nobody accepted or edited an answer for is a dead letter "no accepted answer"; its rounds stay in
the dead letter's details, so rejected drafts are never silently lost.
"""

import json
from collections import Counter
from typing import Any

from PIL import ImageDraw

from annotation import exports
from annotation.ama.records import NO_ANSWER, ama_problems, draft_history, final_round
from annotation.exports import AMARecord
from pipelines.common import plots
from pipelines.common.export_source import (
    ExportOptions,
    ExportSubset,
    image_source,
)
from pipelines.common.preview import jpeg, thumbnail
from pipelines.common.report import RunReport
from pipelines.common.shards import write_bytes_atomically
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem
from schemas import ama as ama_schema
from schemas.common import image_value, provenance


def ama_row(record: AMARecord, image: Any, example_id: str, options: ExportOptions) -> dict[str, Any]:
    """AMARecord + its image -> a pixmo-ask-model-anything row."""
    index = final_round(record)
    assert index is not None  # records without one are dead letters (annotation.ama.records)
    chosen = record.rounds[index]
    models = sorted({r.model for r in record.rounds if r.model})
    return ama_schema.build_row(
        example_id=example_id,
        image=image_value(image.data, f"{example_id}.{image.extension}"),
        image_sha256=image.sha256,
        source=image_source(image.key),
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
            code_version=options.code_version,
            schema_version=ama_schema.SCHEMA_VERSION,
            seed=options.seed,
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


class AMA(ExportSubset):
    name = "ama"
    summary = "annotator questions answered from OCR + caption + LLM drafts, reviewed by people"
    schema = ama_schema
    stats_columns = ("question", "answer", "final_action", "rounds", "draft_history", "draft_model")
    records_file = exports.AMA
    record_cls = AMARecord

    def problems(self, record: AMARecord) -> list[str]:
        return ama_problems(record)

    def make_row(self, record: AMARecord, image: Any, example_id: str, options: ExportOptions) -> dict[str, Any]:
        return ama_row(record, image, example_id, options)

    def plot_stats(self, report: RunReport, out_dir: str) -> list[str]:
        table = report.table
        actions: Counter[str] = Counter()
        for history in table.column("draft_history").to_pylist():
            actions.update(r["action"] for r in json.loads(history))
        rounds = Counter(table.column("rounds").to_pylist())
        finals = Counter(table.column("final_action").to_pylist())
        question_words = [len(q.split()) for q in table.column("question").to_pylist()]
        answer_words = [len(a.split()) for a in table.column("answer").to_pylist()]
        files = {
            "actions.svg": plots.bar_svg(
                list(exports.AMA_ACTIONS),
                [actions[a] for a in exports.AMA_ACTIONS],
                f"Review rounds by action (final answers: {finals['accepted']} accepted, {finals['edited']} edited)",
                "action",
            ),
            "rounds_per_question.svg": plots.bar_svg(
                [str(k) for k in sorted(rounds)], [rounds[k] for k in sorted(rounds)], "Rounds per question", "rounds"
            ),
            "question_lengths.svg": plots.histogram_svg(question_words, 20, "Question length", "words"),
            "answer_lengths.svg": plots.histogram_svg(answer_words, 20, "Answer length", "words"),
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

    def card_description(self, options: ExportOptions, report: RunReport) -> str:
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
            f"Splits ({options.splits}) come from a stable hash of the image's sha256 with the seed, so every "
            "question about one image is in the same split."
        )
