"""The pure row builders of the record-flow subsets, run in a Beam TestPipeline on records carrying scripted model
results (the real detector and LLM run in each subset's end-to-end test)."""

import argparse
import os

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

import beam_runner
from inference.detector import DetectionResult, Detections
from inference.llm import LLMResult
from media.samples import bundled_images_dir
from pipelines.capqa.steps import ANSWER, ASK, CaptionRef
from pipelines.common.media_loader import LoadedImage
from pipelines.common.options import in_process_pipeline
from pipelines.common.record_flow import Record
from pipelines.common.rejects import Rejected
from pipelines.count.steps import DETECT
from pipelines.registry import load
from schemas.common import sha256_hex

ASSETS = bundled_images_dir()
pytestmark = pytest.mark.skipif(ASSETS is None, reason="ultralytics (the sample photos) is not installed")


def options_for(name: str, *argv: str):
    parser, subset = beam_runner._subset_parser(name)
    args: argparse.Namespace = parser.parse_args(list(argv))
    options, problems = subset.parse(args)
    assert problems == []
    return subset, options


def outcome(subset, options):
    """A record -> (example_id, what became of it): a row's count/messages, or the dead letter's stage."""

    def build(record: Record):
        built = subset.build_row(record, options)
        if isinstance(built, Rejected):
            return record.key, f"rejected at {built.stage}: {built.reason.split(':')[0]}"
        return record.key, built.get("count", len(built.get("messages", [])) // 2)

    return build


def bus_image() -> LoadedImage:
    data = open(os.path.join(ASSETS, "bus.jpg"), "rb").read()
    return LoadedImage("/in/bus.jpg", data, "image/jpeg", 810, 1080, sha256_hex(data), "JPEG", "00ff00ff00ff00ff")


def detected(boxes, scores, error="") -> dict:
    found = None if error else Detections(boxes, scores, ["Normal"] * len(scores), ["person"] * len(scores))
    return {DETECT: {"image": DetectionResult("k", None, found, "scripted-detector", error)}}


def test_count_rows_from_scripted_detections():
    subset, options = options_for("count", "--splits", "train=1")
    people = [(10.0, 100.0, 110.00004, 500.0), (300.0, 120.0, 380.0, 520.0), (500.0, 90.0, 600.0, 480.0)]
    records = [
        Record(
            "/in/three.jpg", "/in/three.jpg", "count-3", image=bus_image(), results=detected(people, [0.9, 0.8, 0.7])
        ),
        Record("/in/none.jpg", "/in/none.jpg", "count-0", image=bus_image(), results=detected([], [])),
        Record("/in/unsure.jpg", "/in/unsure.jpg", "count-u", image=bus_image(), results=detected(people[:1], [0.25])),
        Record("/in/error.jpg", "/in/error.jpg", "count-e", image=bus_image(), results=detected([], [], "boom")),
    ]
    with in_process_pipeline() as pipeline:
        built = pipeline | beam.Create(records) | beam.Map(outcome(subset, options))
        assert_that(
            built,
            equal_to([
                ("/in/three.jpg", 3),
                ("/in/none.jpg", 0),
                ("/in/unsure.jpg", "rejected at count: ambiguous"),
                ("/in/error.jpg", "rejected at detect: boom"),
            ]),
        )  # fmt: skip
    row = subset.build_row(records[0], options)
    assert row["boxes"][0]["x1"] == 110.0 and row["scores"] == [0.9, 0.8, 0.7]  # quantised: noise never shows
    assert row["points"]["x"] == sorted(row["points"]["x"]) and subset.schema.validate(row) == []


CAPTION = (
    "A blue city bus is parked on a street in front of a building. Four people stand on the sidewalk next to the "
    "bus; one man wears a dark jacket and jeans."
)


def capqa_record(asks: dict[str, str], answers: dict[str, str]) -> Record:
    image = open(os.path.join(ASSETS, "bus.jpg"), "rb").read()
    ref = CaptionRef("/cap/train/part-0.parquet", 0, 0, CAPTION, "cap-bus", sha256_hex(image), "")
    results = {
        ASK: {k: LLMResult(k, v, "stop", model_id="scripted") for k, v in asks.items()},
        ANSWER: {k: LLMResult(k, v, "stop", model_id="scripted") for k, v in answers.items()},
    }
    return Record("capqa-cap-bus", "/cap/train/part-0.parquet#row1", "capqa-cap-bus", (ref, image), results=results)


def test_capqa_conversations_from_scripted_replies(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"caption": [CAPTION], "image": [b"x"]}), tmp_path / "c.parquet")
    subset, options = options_for("capqa", "--input", str(tmp_path / "c.parquet"), "--turns", "2", "--min-turns", "1")
    good = capqa_record(
        {"capqa-cap-bus#0": "What is parked on the street?", "capqa-cap-bus#1": "What colour is the bus?"},
        {"capqa-cap-bus#0": "A blue city bus is parked on the street.", "capqa-cap-bus#1": "The bus is blue."},
    )
    nothing = capqa_record({"capqa-cap-bus#0": "", "capqa-cap-bus#1": "Sure!"}, {})
    with in_process_pipeline() as pipeline:
        built = pipeline | beam.Create([good, nothing]) | beam.Map(outcome(subset, options))
        short = built | beam.Map(lambda kv: (kv[0], kv[1] if isinstance(kv[1], int) else kv[1][:14]))
        assert_that(short, equal_to([("capqa-cap-bus", 2), ("capqa-cap-bus", "rejected at qa")]))


@pytest.mark.parametrize("name", ["points", "ama"])
def test_export_subsets_build_rows_without_a_model(name):
    assert load(name).rounds(None) == []
