"""The output contract: one module per subset with SCHEMA, SCHEMA_VERSION and validate(row)."""

from types import ModuleType

from schemas import ama, cap, capqa, clocks, count, docs, points

SCHEMAS: dict[str, ModuleType] = {
    "cap": cap,
    "ama": ama,
    "points": points,
    "capqa": capqa,
    "docs": docs,
    "clocks": clocks,
    "count": count,
}
