"""Count's steps on the record-flow skeleton: read images, detect, count, and the whole-run decisions.

Whole-run decisions, over the light fields of every row (never the image bytes):
  1. duplicates: exact copies (same sha256 of the stored bytes) and near copies (perceptual hash within
     --near-duplicate-bits) among the rows; the best copy is kept (the most pixels, a still image over an
     animated one, then the smallest path/URL). Dedup runs on rows, so the kept copy is always a row;
  2. held-out splits, balanced per count value (the smallest stable hashes of the kept rows);
  3. people's verdicts (--verified), applied to held-out rows only, so verification never moves a row.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam

from annotation.count import CountRejected, count_objects, count_qa, plural
from annotation.count.verification import Verdict, problem_with
from inference.detector import DetectionRequest, DetectionResult, DetectorModelHandler
from media import MediaError
from media.dedup import copy_rank, first_duplicate_of, near_duplicate_bands
from media.urls import redact
from pipelines.common.input_plan import InputRef
from pipelines.common.listing import example_id_for
from pipelines.common.media_loader import is_url, load_for_refs
from pipelines.common.record_flow import Decision, ModelRound, Reader, Record
from pipelines.common.rejects import Rejected, rejected
from pipelines.common.stage import Stage
from pipelines.count.options import CountOptions
from schemas import count as count_schema
from schemas.common import image_value, provenance

DETECT = "Detect"


class ReadImages(Reader):
    """Every image of a shard downloaded or read at once (bounded per host), decoded, checked and hashed."""

    def __init__(self, subset: str, options: CountOptions) -> None:
        super().__init__(subset)
        self.options = options

    def read(self, refs: Sequence[InputRef]) -> Iterator[tuple[InputRef, Record | Rejected]]:
        o = self.options
        loading = load_for_refs(refs, lambda r: r.key, o.fetch, o.decode, threads=o.download_threads, with_phash=True)
        for ref, key, loaded in loading:
            if isinstance(loaded, MediaError):
                details = {k: v for k, v in loaded.details.items() if k != "stage"}
                yield ref, self.rejected(redact(ref.where), loaded.reason, stage=loaded.details["stage"], **details)
            else:
                yield ref, Record(key, ref.where, example_id_for(self.subset, key), image=loaded)


class Detect(ModelRound):
    name = DETECT
    stage = "detect"

    def __init__(self, subset: str, options: CountOptions) -> None:
        super().__init__(subset, options.detector_hints)
        self.config = options.detector

    def handler(self) -> DetectorModelHandler:
        return DetectorModelHandler(self.config)

    def requests(self, record: Record) -> list[tuple[str, Any]]:
        assert record.image is not None
        return [("image", DetectionRequest(record.key, record.image.data))]  # decoded when its batch runs


def quantised(result: DetectionResult) -> tuple[list[tuple[float, ...]], list[float], list[str]]:
    """Boxes to 0.01 px and scores to 1e-4: float noise of the detector never reaches the rows or a threshold."""
    found = result.detections
    assert found is not None
    boxes = [tuple(round(v, 2) for v in box) for box in found.boxes]
    return boxes, [round(s, 4) for s in found.scores], list(found.labels)


def build_count_row(stage: Stage, record: Record, options: CountOptions) -> dict[str, Any] | Rejected:
    image = record.image
    assert image is not None
    result: DetectionResult = record.results[DETECT]["image"]
    if result.error or result.detections is None:
        return stage.rejected(record.where, result.error or "no detections", stage="detect")
    boxes, scores, labels = quantised(result)
    try:
        counted = count_objects(boxes, scores, labels, image.width, image.height, options.count)
    except CountRejected as reason:
        details = {"example_id": record.example_id, **reason.details}
        return stage.rejected(record.where, reason.reason, stage="count", **details)
    label = plural(counted.label)
    xs, ys = [round(x, 3) for x in counted.xs], [round(y, 3) for y in counted.ys]
    qa = count_qa(label, xs, ys)
    return count_schema.build_row(
        example_id=record.example_id,
        image=image_value(image.data, f"{record.example_id}.{image.extension}"),
        image_sha256=image.sha256,
        source="url" if is_url(record.key) else "file",
        image_url=record.key,
        count=counted.count,
        label=label,
        points={"x": xs, "y": ys},
        width=image.width,
        height=image.height,
        detector=result.detector_id,
        detector_class=counted.label,
        boxes=[dict(zip(("x0", "y0", "x1", "y1"), box, strict=True)) for box in counted.boxes],
        scores=counted.scores,
        question=qa.question,
        answer=qa.answer,
        question_count_only=qa.question_count_only,
        answer_count_only=qa.answer_count_only,
        verified=False,
        provenance=provenance(
            pipeline="count",
            code_version=options.code_version,
            schema_version=count_schema.SCHEMA_VERSION,
            seed=options.seed,
            models=[result.detector_id],
            details={
                "objects_per_label": counted.per_label,
                "capped_from": counted.capped_from,
                "image_changes": image.changes,
                "source_format": image.source_format,
                "phash": image.phash,
                "count_config": vars(options.count),
            },
        ),
    )


def light_fields(row: dict[str, Any]) -> dict[str, Any]:
    details = json.loads(row["provenance"]["details"])
    return {
        "key": row["image_url"],
        "sha256": row["image_sha256"],
        "phash": details["phash"],
        "pixels": row["width"] * row["height"],
        "animated": "first_frame" in details["image_changes"],
        "count": row["count"],
    }


# -- whole-run decisions --


def held_out_quotas(
    eval_sizes: dict[str, int], eval_counts: Sequence[int], bucket_sizes: dict[int, int]
) -> dict[int, dict[str, int]]:
    """How many rows of each count value each held-out split takes.

    Each split's size is spread evenly over the count values (PixMo: 540 = 9 x 60 for counts 2-10; a remainder
    goes to the smallest counts). A count value with too few rows gives its held-out splits at most half of
    them (split order first), so train always keeps at least half of every count value.
    """
    quotas: dict[int, dict[str, int]] = {}
    for count in eval_counts:
        available = bucket_sizes.get(count, 0) // 2
        quotas[count] = {}
        for split, size in eval_sizes.items():
            base, extra = divmod(size, len(eval_counts))
            want = base + (1 if list(eval_counts).index(count) < extra else 0)
            take = min(want, available)
            quotas[count][split] = take
            available -= take
    return quotas


def stable_rank(seed: int, example_id: str) -> str:
    return hashlib.sha256(f"count-split:{seed}:{example_id}".encode()).hexdigest()


def assign_held_out(
    count: int, members: Iterable[tuple[str, str]], eval_sizes: dict[str, int], eval_counts: Sequence[int]
) -> list[tuple[str, str]]:
    """(rank, example_id) members of one count value -> (example_id, split) for the held-out ones."""
    ordered = sorted(members)
    quota = held_out_quotas(eval_sizes, eval_counts, {count: len(ordered)})[count]
    out, start = [], 0
    for split, n in quota.items():
        out += [(eid, split) for _, eid in ordered[start : start + n]]
        start += n
    return out


def _rank(light: dict[str, Any]) -> tuple[int, bool, str]:
    return copy_rank(light["pixels"], light["animated"], light["key"])


def exact_verdicts(element: tuple[str, Iterable[tuple[str, dict[str, Any]]]]) -> Iterator[tuple[str, tuple]]:
    """(sha256, [(example_id, light)]) -> (example_id, ("exact", kept key, 0)) for every copy but the best."""
    _, members = element
    ordered = sorted(members, key=lambda m: _rank(m[1]))
    for example_id, _light in ordered[1:]:
        yield example_id, ("exact", ordered[0][1]["key"], 0)


def near_verdicts(max_distance: int):
    def verdicts(element: tuple[str, Iterable[tuple[str, dict[str, Any]]]]) -> Iterator[tuple[str, tuple]]:
        _, members = element
        by_key = {light["key"]: eid for eid, light in members}
        ranked = [(_rank(light), light["key"], light["phash"]) for _, light in members]
        for key, (kept, distance) in first_duplicate_of(ranked, max_distance).items():
            yield by_key[key], ("near", kept, distance)

    return verdicts


def duplicate_rejected(subset: str, light: dict[str, Any], verdicts: list[tuple]) -> Rejected:
    exact = sorted(v for v in verdicts if v[0] == "exact")
    kind, kept, distance = exact[0] if exact else sorted(verdicts, key=lambda v: (v[2], v[1]))[0]
    if kind == "exact":
        reason = f"exact duplicate of {redact(kept)}"
    else:
        reason = f"near duplicate of {redact(kept)} (perceptual hash {distance} bits apart)"
    return rejected(subset, redact(light["key"]), "dedup", reason, kept=redact(kept), sha256=light["sha256"])


class CountDecisions(beam.PTransform):
    """(example_id, (split, light)) of every row -> ((example_id, Decision), dead letters)."""

    def __init__(self, subset: str, options: CountOptions) -> None:
        super().__init__()
        self.subset = subset
        self.options = options

    def expand(self, light):  # no type hints: Beam would read them as element types
        subset, o = self.subset, self.options
        exact = (
            light
            | "BySha256" >> beam.Map(lambda kv: (kv[1][1]["sha256"], (kv[0], kv[1][1])))
            | "GroupSha256" >> beam.GroupByKey()
            | "ExactVerdicts" >> beam.FlatMap(exact_verdicts)
        )
        duplicate_verdicts = [exact]
        if o.near_duplicate_bits >= 0:
            bits = o.near_duplicate_bits
            duplicate_verdicts.append(
                light
                | "ByHashBand"
                >> beam.FlatMap(
                    lambda kv: [(b, (kv[0], kv[1][1])) for b in near_duplicate_bands(kv[1][1]["phash"], bits)]
                )
                | "GroupHashBand" >> beam.GroupByKey()
                | "NearVerdicts" >> beam.FlatMap(near_verdicts(bits))
            )
        joined = {"row": light, "dup": duplicate_verdicts | "AllDuplicates" >> beam.Flatten()} | beam.CoGroupByKey()
        dropped = joined | "Dropped" >> beam.FlatMap(
            lambda kv: (
                [(kv[0], Decision(drop=duplicate_rejected(subset, kv[1]["row"][0][1], list(kv[1]["dup"]))))]
                if kv[1]["dup"]
                else []
            )
        )
        kept = joined | "Kept" >> beam.FlatMap(lambda kv: [] if kv[1]["dup"] else [(kv[0], kv[1]["row"][0])])
        eval_sizes, eval_counts, seed = o.eval_sizes, o.eval_counts, o.seed
        held_out = (
            kept
            | "EvalCandidates"
            >> beam.FlatMap(
                lambda kv: (
                    [(kv[1][1]["count"], (stable_rank(seed, kv[0]), kv[0]))]
                    if eval_sizes and kv[1][1]["count"] in eval_counts
                    else []
                )
            )
            | "GroupByCount" >> beam.GroupByKey()
            | "PickHeldOut" >> beam.FlatMap(lambda kv: assign_held_out(kv[0], kv[1], eval_sizes, eval_counts))
        )
        held = kept | "WithHeldOut" >> beam.Map(
            lambda kv, plan: (kv[0], plan.get(kv[0], "train"), kv[1][1]["count"]), plan=beam.pvalue.AsDict(held_out)
        )
        verdicts = o.verdicts
        applied = held | "Verdicts" >> beam.ParDo(ApplyVerdicts(subset, verdicts)).with_outputs("rejects", "matched")
        unmatched = (
            applied.matched
            | "MatchedIds" >> beam.combiners.ToList()
            | "Unmatched" >> beam.FlatMap(lambda ids: unmatched_verdicts(subset, ids, verdicts))
        )
        unused = [
            rejected(subset, p.where, "verification", p.reason, level="part", record_id=p.record_id,
                     example_id=p.example_id)
            for p in o.verdict_problems
        ]  # fmt: skip
        decisions = (dropped, applied[None]) | "AllDecisions" >> beam.Flatten()
        rejects = (
            applied.rejects,
            unmatched,
            light.pipeline | "UnusedVerdicts" >> beam.Create(unused),
        ) | "VerificationRejects" >> beam.Flatten()
        return decisions, rejects


class ApplyVerdicts(beam.DoFn):
    """(example_id, split, count) of a kept row -> its Decision when it is held out or has a verdict."""

    def __init__(self, subset: str, verdicts: dict[str, Verdict]) -> None:
        self.subset = subset
        self.verdicts = verdicts

    def process(self, element: tuple[str, str, int]) -> Iterator[Any]:
        example_id, split, count = element
        verdict = self.verdicts.get(example_id)
        if verdict is None:
            if split != "train":
                yield example_id, Decision(split=split)
            return
        yield beam.pvalue.TaggedOutput("matched", example_id)
        reason = problem_with(split, {"count": count}, verdict)
        if reason is not None:  # the verdict is a dead letter; the row goes on unchanged
            yield beam.pvalue.TaggedOutput("rejects", verdict_rejected(self.subset, verdict, reason, split=split))
            if split != "train":
                yield example_id, Decision(split=split)
            return
        yield example_id, Decision(split=split, update=verdict)


def verdict_rejected(subset: str, verdict: Verdict, reason: str, **details: Any) -> Rejected:
    return rejected(
        subset, verdict.where, "verification", reason, level="part", record_id=verdict.record_id,
        example_id=verdict.example_id, **details,
    )  # fmt: skip


def unmatched_verdicts(subset: str, matched: Iterable[str], verdicts: dict[str, Verdict]) -> list[Rejected]:
    """Dead letters for the verdicts whose example_id is no row of this run (in sorted order: deterministic)."""
    seen = set(matched)
    reason = "no row with this example_id in this run (rejected, or from another input)"
    return [verdict_rejected(subset, v, reason) for eid, v in sorted(verdicts.items()) if eid not in seen]
