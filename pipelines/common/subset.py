"""What a subset pipeline tells the shared runner: its options, its Beam graph, and how to report on it."""

import argparse
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import apache_beam as beam
import pyarrow as pa

from pipelines.common.staging import Staging


@dataclass
class RunContext:
    """What `build` needs: parsed arguments, where to write, and run facts."""

    args: argparse.Namespace
    staging: Staging
    code_version: str
    total_examples: int | None  # None when the input decides (real inputs)


@dataclass
class PreviewItem:
    """One card of preview.html: an image (labels drawn on it) and text fields."""

    image: bytes
    image_mime: str
    title: str
    fields: dict[str, str] = field(default_factory=dict)
    qa: list[tuple[str, str]] = field(default_factory=list)
    # Audio players under the image: (label, bytes, MIME type), embedded in the page.
    audio: list[tuple[str, bytes, str]] = field(default_factory=list)


class Subset(ABC):
    name: str
    summary: str  # one line for --list
    schema: ModuleType  # the schemas/ module: SCHEMA, SCHEMA_VERSION, validate
    default_num_examples: int | None = None
    # True when plot_stats reports something even without rows (e.g. from dead letters: where examples were lost).
    plots_without_rows: bool = False
    # True when the subset has no embedded default input: `all` skips it unless --input is given.
    requires_input: bool = False
    default_splits: str = "train=0.98,validation=0.01,test=0.01"
    # Columns read back after the run for stats plots (never the image bytes).
    stats_columns: tuple[str, ...] = ()

    @abstractmethod
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Subset-specific options."""

    def check_arguments(self, args: argparse.Namespace) -> list[str]:
        """Problems with the arguments, found before any work starts."""
        return []

    @abstractmethod
    def fingerprint(self, args: argparse.Namespace) -> dict[str, Any]:
        """The subset-specific arguments that decide the rows (they name the staging folder)."""

    @abstractmethod
    def build(self, pipeline: beam.Pipeline, ctx: RunContext) -> None:
        """Add the subset's transforms; they write shards, dead letters and stats into ctx.staging."""

    def models(self, args: argparse.Namespace) -> list[str]:
        return []

    def generator_version(self) -> str:
        return ""

    @abstractmethod
    def plot_stats(self, table: pa.Table, out_dir: str) -> list[str]:
        """Write PNG plots of the distributions that matter; return their file names."""

    @abstractmethod
    def preview_item(self, row: dict[str, Any]) -> PreviewItem:
        """A preview card for one row, labels drawn on the image."""

    @abstractmethod
    def card_description(self, args: argparse.Namespace) -> str:
        """Markdown paragraphs for the dataset card: what the rows are and how they were made."""
