import pyarrow as pa

import schemas
from schemas.common import check_row, image_value, provenance, sha256_hex


def test_every_subset_has_the_common_columns_and_hf_image_layout():
    for name, module in schemas.SCHEMAS.items():
        schema = module.SCHEMA
        assert schema.names[:4] == ["example_id", "image", "image_sha256", "source"], name
        assert schema.field("image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
        assert b"huggingface" in schema.metadata
        assert callable(module.validate)


def test_check_row_reports_missing_unknown_null_and_wrong_types():
    schema = pa.schema(
        [
            pa.field("example_id", pa.string(), nullable=False),
            ("n", pa.int64()),
            ("xs", pa.list_(pa.float64())),
        ]
    )
    problems = check_row({"example_id": None, "n": "3", "xs": [1.0, "a"], "extra": 1}, schema)
    text = "\n".join(problems)
    assert "unknown column 'extra'" in text
    assert "example_id: must not be null" in text
    assert "n: expected int64" in text
    assert "xs[1]" in text
    assert check_row({"example_id": "e"}, schema) == ["missing column 'n'", "missing column 'xs'"]


def test_published_column_names_are_kept():
    published = {
        "cap": ["image_url", "caption", "transcripts"],
        "ama": ["image_url", "image_sha256", "question", "answer"],
        "capqa": ["messages"],
        "points": ["image_url", "image_sha256", "points", "count", "label", "collection_method"],
        "docs": ["image", "image_id", "questions"],
        "count": ["image_url", "count", "label", "points"],
        "clocks": [
            "example_id",
            "watchface_id",
            "watchface_name",
            "watch_time",
            "time_format",
            "shows_seconds",
            "hour_visible",
            "minute_visible",
            "second_visible",
            "text",
        ],
    }
    for name, columns in published.items():
        assert set(columns) <= set(schemas.SCHEMAS[name].SCHEMA.names), name


def test_provenance_and_image_helpers():
    value = image_value(b"abc", "x.jpg")
    assert value == {"bytes": b"abc", "path": "x.jpg"}
    assert sha256_hex(b"abc").startswith("ba7816bf")
    prov = provenance("clocks", "v", "1", 7, details={"b": 1, "a": 2})
    assert prov["details"] == '{"a": 2, "b": 1}'
