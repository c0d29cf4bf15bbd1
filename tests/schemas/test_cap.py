"""The Cap row contract: parallel transcript lists, the caption length, receipts and WER only with a reference."""

import pyarrow as pa

from schemas import cap
from schemas.common import image_value, provenance, sha256_hex


def _audio(**overrides):
    item = dict(
        path="/data/a.wav",
        sha256="ab" * 32,
        seconds=12.5,
        language="en",
        language_probability=1.0,
        words=[{"word": "Two", "start": 0.0, "end": 0.3, "probability": 0.9}],
        reference_text="Two men.",
        wer=0.0,
        annotator="ann-1",
    )
    item.update(overrides)
    return item


def _row(**overrides):
    image = b"\xff\xd8fake-jpeg-bytes"
    caption = "Two men in dark suits stand at a stadium."
    kwargs = dict(
        example_id="cap-0123456789abcdef",
        image=image_value(image, "a.jpg"),
        image_sha256=sha256_hex(image),
        source="file",
        image_url="/data/a.jpg",
        caption=caption,
        transcripts=["um two men in dark suits at a stadium"],
        transcript_captions=[caption],
        audio=[_audio()],
        caption_chars=len(caption),
        caption_words=len(caption.split()),
        record_id="rec-1",
        asr_model="whisper-tiny.en",
        llm_model="SmolLM2",
        provenance=provenance("cap", "v", cap.SCHEMA_VERSION, 0, prompts_version="cap-prompts-1"),
    )
    kwargs.update(overrides)
    return cap.build_row(**kwargs)


def test_a_good_row_validates_and_writes_as_the_schema():
    row = _row()
    assert cap.validate(row) == []
    table = pa.Table.from_pylist([row], schema=cap.SCHEMA)
    assert table.column("audio")[0].as_py()[0]["words"][0]["word"] == "Two"
    assert cap.SCHEMA.metadata[b"pixmo_schema_version"] == cap.SCHEMA_VERSION.encode()


def test_published_pixmo_cap_columns_come_first():
    assert cap.SCHEMA.names[4:7] == ["image_url", "caption", "transcripts"]


def test_caption_length_and_words_must_match_the_caption():
    assert any("caption_chars" in p for p in cap.validate(_row(caption_chars=3)))
    assert any("caption_words" in p for p in cap.validate(_row(caption_words=3)))


def test_lists_are_parallel_and_one_transcript_means_its_caption_is_the_caption():
    assert any("2 transcripts" in p for p in cap.validate(_row(transcripts=["a b", "c d"])))
    assert any("one transcript" in p for p in cap.validate(_row(transcript_captions=["something else"])))
    two = _row(
        transcripts=["a b", "c d"], transcript_captions=["", "C d."], audio=[_audio(), _audio(path="/data/b.wav")]
    )
    assert cap.validate(two) == []  # a rejected per-transcript caption is an empty entry; the merged one stays


def test_empty_caption_or_transcripts_are_refused():
    assert "caption is empty" in cap.validate(
        _row(caption=" ", caption_chars=1, caption_words=0, transcript_captions=[" "])
    )
    assert "no transcripts" in cap.validate(_row(transcripts=[], transcript_captions=[], audio=[]))
    assert "a transcript is empty" in cap.validate(_row(transcripts=[""]))


def test_wer_exactly_when_there_is_a_reference_and_receipts_are_complete():
    assert any("wer must be given" in p for p in cap.validate(_row(audio=[_audio(wer=None)])))
    assert any("wer must be given" in p for p in cap.validate(_row(audio=[_audio(reference_text="", wer=0.2)])))
    assert cap.validate(_row(audio=[_audio(reference_text="", wer=None)])) == []
    assert any("seconds" in p for p in cap.validate(_row(audio=[_audio(seconds=0.0)])))
    assert any("sha256" in p for p in cap.validate(_row(audio=[_audio(sha256="")])))
    backwards = [{"word": "x", "start": 2.0, "end": 1.0, "probability": 0.5}]
    assert any("out of order" in p for p in cap.validate(_row(audio=[_audio(words=backwards)])))
    assert any("must be named" in p for p in cap.validate(_row(llm_model="")))
