"""Structs shared by every subset's schema, and the generic half of row validation.

A row is a plain dict whose keys are the schema's columns. `check_row` catches what is wrong for any
subset (missing or unknown columns, nulls, wrong Python types); each subset's `validate` adds its own rules.
"""

import hashlib
import json
from typing import Any

import pyarrow as pa

# Hugging Face `Image` feature layout, so `datasets` decodes the column as an image.
IMAGE = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])

# One point in percent of width/height (0-100), as pixmo-points stores them.
POINT = pa.struct([pa.field("x", pa.float64()), pa.field("y", pa.float64())])

# pixmo-count's layout: two parallel lists.
POINTS_XY = pa.struct([pa.field("x", pa.list_(pa.float64())), pa.field("y", pa.list_(pa.float64()))])

# pixmo-docs' layout: two parallel lists.
QUESTIONS = pa.struct([pa.field("question", pa.list_(pa.string())), pa.field("answer", pa.list_(pa.string()))])

# Where a row came from and what made it. `details` is JSON for what only one subset has.
PROVENANCE = pa.struct(
    [
        pa.field("pipeline", pa.string()),
        pa.field("code_version", pa.string()),
        pa.field("schema_version", pa.string()),
        pa.field("generator_version", pa.string()),
        pa.field("models", pa.list_(pa.string())),
        pa.field("prompts_version", pa.string()),
        pa.field("seed", pa.int64()),
        pa.field("details", pa.string()),
    ]
)

# Columns every subset has, first in every schema.
COMMON_FIELDS = [
    pa.field("example_id", pa.string(), nullable=False),
    pa.field("image", IMAGE),
    pa.field("image_sha256", pa.string()),
    pa.field("source", pa.string(), nullable=False),
]

# Hugging Face `datasets` reads this schema metadata to restore feature types per column.
HF_FEATURES_METADATA = {b"huggingface": json.dumps({"info": {"features": {"image": {"_type": "Image"}}}}).encode()}


def make_schema(fields: list[pa.Field], version: str) -> pa.Schema:
    """Common columns, then the subset's own, then provenance; versioned in the schema metadata."""
    all_fields = COMMON_FIELDS + fields + [pa.field("provenance", PROVENANCE)]
    metadata = dict(HF_FEATURES_METADATA)
    metadata[b"pixmo_schema_version"] = version.encode()
    return pa.schema(all_fields, metadata=metadata)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image_value(data: bytes, path: str) -> dict[str, Any]:
    """The value of an `image` column: the encoded bytes and a file name (no folder)."""
    return {"bytes": data, "path": path}


def provenance(
    pipeline: str,
    code_version: str,
    schema_version: str,
    seed: int,
    generator_version: str = "",
    models: list[str] | None = None,
    prompts_version: str = "",
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "pipeline": pipeline,
        "code_version": code_version,
        "schema_version": schema_version,
        "generator_version": generator_version,
        "models": list(models or []),
        "prompts_version": prompts_version,
        "seed": seed,
        "details": json.dumps(details or {}, sort_keys=True),
    }


def _python_type_problem(value: Any, dtype: pa.DataType, where: str) -> list[str]:
    """Problems with `value` as a value of arrow type `dtype` (None is checked by the caller)."""
    if value is None:
        return []
    if pa.types.is_string(dtype):
        ok = isinstance(value, str)
    elif pa.types.is_binary(dtype):
        ok = isinstance(value, bytes | bytearray)
    elif pa.types.is_boolean(dtype):
        ok = isinstance(value, bool)
    elif pa.types.is_integer(dtype):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif pa.types.is_floating(dtype):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif pa.types.is_list(dtype):
        if not isinstance(value, list | tuple):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        problems: list[str] = []
        for i, item in enumerate(value):
            problems += _python_type_problem(item, dtype.value_type, f"{where}[{i}]")
        return problems
    elif pa.types.is_struct(dtype):
        if not isinstance(value, dict):
            return [f"{where}: expected a struct (dict), got {type(value).__name__}"]
        problems = []
        names = {dtype.field(i).name for i in range(dtype.num_fields)}
        for key in value:
            if key not in names:
                problems.append(f"{where}.{key}: not a field of the struct")
        for i in range(dtype.num_fields):
            field = dtype.field(i)
            problems += _python_type_problem(value.get(field.name), field.type, f"{where}.{field.name}")
        return problems
    else:
        return []
    return [] if ok else [f"{where}: expected {dtype}, got {type(value).__name__}"]


def check_row(row: dict[str, Any], schema: pa.Schema) -> list[str]:
    """Generic problems of `row` against `schema`: columns, nulls and types."""
    problems = [f"unknown column {key!r}" for key in row if key not in schema.names]
    for field in schema:
        if field.name not in row:
            problems.append(f"missing column {field.name!r}")
            continue
        value = row[field.name]
        if value is None and not field.nullable:
            problems.append(f"{field.name}: must not be null")
        problems += _python_type_problem(value, field.type, field.name)
    return problems


def check_image(row: dict[str, Any]) -> list[str]:
    """The image column holds bytes whose sha256 is `image_sha256`."""
    image = row.get("image")
    if not image or not image.get("bytes"):
        return ["image: no bytes"]
    if row.get("image_sha256") != sha256_hex(image["bytes"]):
        return ["image_sha256 does not match the image bytes"]
    return []


def check_percent_points(xs: list[float], ys: list[float], where: str) -> list[str]:
    """Points are percentages of width/height, so 0-100."""
    problems = []
    if len(xs) != len(ys):
        problems.append(f"{where}: {len(xs)} x values but {len(ys)} y values")
    for i, (x, y) in enumerate(zip(xs, ys, strict=False)):
        if not (0.0 <= x <= 100.0 and 0.0 <= y <= 100.0):
            problems.append(f"{where}[{i}] = ({x}, {y}) is outside 0-100")
    return problems
