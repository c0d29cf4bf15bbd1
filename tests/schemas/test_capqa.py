"""The CapQA row contract: alternating pairs, one focus per pair, a caption."""

from schemas import capqa
from schemas.common import image_value, provenance, sha256_hex


def row(**changes):
    data = b"\xff\xd8\xff fake jpeg"
    base = {
        "example_id": "capqa-x",
        "image": image_value(data, "capqa-x.jpg"),
        "image_sha256": sha256_hex(data),
        "source": "capqa",
        "image_url": "",
        "messages": ["What is parked?", "A bus."],
        "caption": "A bus is parked.",
        "source_example_id": "x",
        "focuses": ["the main object"],
        "rejected_turns": 1,
        "llm_model": "m",
        "provenance": provenance("capqa", "v", capqa.SCHEMA_VERSION, 0),
    }
    return {**base, **changes}


def test_a_good_row_passes():
    assert capqa.validate(row()) == []


def test_bad_rows_say_why():
    assert "pairs" in " ".join(capqa.validate(row(messages=["only a question?"], focuses=[])))
    assert "a message is empty" in capqa.validate(row(messages=["Q?", " "]))
    assert "one focus per question-answer pair" in capqa.validate(row(focuses=[]))
    assert "caption is empty" in capqa.validate(row(caption=""))
    assert "every user turn must be a question ending with '?'" in capqa.validate(row(messages=["A bus.", "Yes."]))
    assert "rejected_turns must be >= 0" in capqa.validate(row(rejected_turns=-1))
