"""The dataset card (README.md) written next to the shards, in the Hugging Face card layout."""

from typing import Any

import pyarrow as pa


def _columns_table(schema: pa.Schema) -> str:
    lines = ["| column | type |", "|---|---|"]
    lines += [f"| `{f.name}` | `{f.type}` |" for f in schema]
    return "\n".join(lines)


def render_card(
    *, subset: str, description: str, schema: pa.Schema, manifest: dict[str, Any], plots: list[str]
) -> bytes:
    splits = manifest["splits"]
    # YAML front matter so the Hub viewer and `load_dataset(DIR)` find the splits.
    config_lines = [f"  - split: {split}\n    path: {split}/*.parquet" for split in splits]
    front = "---\nconfigs:\n- config_name: default\n  data_files:\n" + "\n".join(config_lines) + "\n---\n"
    counts = "\n".join(
        f"| {split} | {s['rows']} | {s['shards']} | {s['bytes'] / 1e6:.1f} MB |" for split, s in splits.items()
    )
    stages = ", ".join(f"{stage}: {n}" for stage, n in manifest["rejected_by_stage"].items()) or "none"
    plot_lines = "\n".join(f"![{name}](stats/{name})" for name in plots)
    first_split = next(iter(splits), "train")
    text = f"""{front}
# PixMo-{subset} (rebuilt with pixmo-pipeline)

{description}

## Contents
| split | rows | shards | size |
|---|---|---|---|
{counts}

Rejected examples: {manifest["rejected"]} ({stages}); each is a JSON line in `_rejected/` with its reason.

Made by `{" ".join(manifest["command"])}` with seed {manifest["seed"]}, code {manifest["code_version"]},
schema {manifest["schema_version"]}{", models " + ", ".join(manifest["models"]) if manifest["models"] else ""}.
`manifest.json` has the full arguments, counts and timings; `preview.html` shows sample rows with labels.

## Loading
```python
import pyarrow.dataset as ds
table = ds.dataset("{subset}/{first_split}", format="parquet").to_table()

import duckdb
duckdb.sql("SELECT * FROM '{subset}/{first_split}/*.parquet' LIMIT 5")

from datasets import load_dataset
dataset = load_dataset("parquet", data_files={{"{first_split}": "{subset}/{first_split}/*.parquet"}})
dataset["{first_split}"][0]["image"]  # a PIL image
```

## Columns
{_columns_table(schema)}

## Statistics
{plot_lines}

## Citation
PixMo and Molmo: Deitke et al., "Molmo and PixMo: Open Weights and Open Data for State-of-the-Art
Multimodal Models", arXiv:2409.17146.
"""
    return text.encode()
