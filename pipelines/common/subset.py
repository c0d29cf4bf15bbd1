"""What a subset pipeline tells the shared runner: its options, its Beam graph, and how to report on it."""

import argparse
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import apache_beam as beam

from pipelines.common.report import RunReport
from pipelines.common.staging import Staging


@dataclass
class RunContext:
    """What `build` needs: the parsed arguments and options, where to write, and run facts."""

    args: argparse.Namespace
    options: Any  # what `Subset.parse` made of the arguments (the Namespace itself for generated subsets)
    staging: Staging
    code_version: str
    total_examples: int | None  # None when the input decides (real inputs) and nothing is listed yet
    dry_run: bool = False
    # Filled by `Subset.prepare` (record-flow subsets: the input plan and what is still to do).
    prepared: Any = None


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
    # A run that keeps a smaller share of its inputs than this is not published (--min-keep overrides).
    min_keep: float = 0.0

    @abstractmethod
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Subset-specific options."""

    def check_arguments(self, args: argparse.Namespace) -> list[str]:
        """Problems with the arguments, found before any work starts."""
        return []

    def parse(self, args: argparse.Namespace, dry_run: bool = False) -> tuple[Any, list[str]]:
        """The arguments parsed once into what every later step uses, and the problems found doing it.
        `dry_run`: only a job graph will be built, so nothing remote may be read."""
        return args, self.check_arguments(args)

    @abstractmethod
    def fingerprint(self, options: Any) -> dict[str, Any]:
        """The subset-specific arguments that decide the rows (they name the staging folder)."""

    def prepare(self, ctx: RunContext, out: Any) -> None:  # noqa: B027 - optional hook
        """Driver work between staging and the graph (record-flow subsets list and plan their inputs here)."""

    @abstractmethod
    def build(self, pipeline: beam.Pipeline, ctx: RunContext) -> None:
        """Add the subset's transforms; they write shards, dead letters and stats into ctx.staging."""

    def models(self, options: Any) -> list[str]:
        return []

    def generator_version(self) -> str:
        return ""

    @abstractmethod
    def plot_stats(self, report: RunReport, out_dir: str) -> list[str]:
        """Write SVG plots (`pipelines.common.plots`) of the distributions that matter; return their file names."""

    @abstractmethod
    def preview_item(self, row: dict[str, Any]) -> PreviewItem:
        """A preview card for one row, labels drawn on the image."""

    @abstractmethod
    def card_description(self, options: Any, report: RunReport) -> str:
        """Markdown paragraphs for the dataset card: what the rows are and how they were made."""
