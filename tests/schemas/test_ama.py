import hashlib
import json

from schemas import ama
from schemas.common import image_value, provenance


def row(**changes):
    data = b"\xff\xd8fake"
    history = json.dumps([{"draft": "d", "action": "accepted"}])
    values = dict(
        example_id="ama-1", image=image_value(data, "ama-1.jpg"), image_sha256=hashlib.sha256(data).hexdigest(),
        source="file", image_url="images/a.jpg", question="Why?", answer="Because.", draft_history=history,
        final_action="accepted", rounds=1, draft_model="m", record_id="q1", annotator="a", created_at="",
        provenance=provenance("ama", "v", ama.SCHEMA_VERSION, 0),
    )  # fmt: skip
    values.update(changes)
    return ama.build_row(**values)


def test_a_good_row_validates():
    assert ama.validate(row()) == []


def test_problems():
    assert ama.validate(row(answer=" ")) == ["answer is empty"]
    assert any("final_action" in p for p in ama.validate(row(final_action="rejected")))
    assert any("not JSON" in p for p in ama.validate(row(draft_history="{")))
    assert any("list of 2 rounds" in p for p in ama.validate(row(rounds=2)))
    assert ama.validate(row(image_sha256="0" * 64)) == ["image_sha256 does not match the image bytes"]
