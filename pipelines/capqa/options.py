"""CapQA's options: the command-line flags, the frozen dataclass they are parsed into once, and its input files."""

import argparse
import hashlib
import json
import posixpath
from dataclasses import dataclass

from apache_beam.io.filesystems import FileSystems

from annotation.capqa import FOCUSES, QASettings
from inference.llm import LLMConfig, add_llm_arguments, llm_config_from_args
from pipelines.common.options import worker_llm
from pipelines.common.record_flow import CommonOptions
from pipelines.common.resources import add_accelerator_arguments, hints_for
from pipelines.common.splits import SplitSpec
from pipelines.common.staging import MANIFEST, join


@dataclass(frozen=True)
class CapQAOptions(CommonOptions):
    input_spec: str
    files: tuple[tuple[str, int], ...]  # (path, bytes) of every input Parquet file, listed once
    columns: tuple[tuple[str, str], ...]  # our name -> the file's column name
    settings: QASettings
    llm: LLMConfig
    llm_id: str
    llm_backend: str
    llm_hints: dict[str, str]  # Beam resource hints of the Ask and Answer steps

    @property
    def column(self) -> dict[str, str]:
        return dict(self.columns)


def parse_capqa_options(
    args: argparse.Namespace, code_version: str, dry_run: bool
) -> tuple[CapQAOptions | None, list[str]]:
    settings = QASettings(
        turns=args.turns,
        question_tokens=args.question_tokens,
        answer_tokens=args.answer_tokens,
        temperature=args.qa_temperature,
        min_turns=args.min_turns,
    )
    llm = llm_config_from_args(args)
    problems = settings.validate() + llm.validate()
    if args.num_examples is not None:
        problems.append("--num-examples does not apply to capqa: the captions decide how many examples there are")
    try:
        if SplitSpec.parse(args.splits).exact:
            problems.append("--splits: capqa assigns rows by Cap's split or a stable hash, so give fractions")
    except ValueError:
        pass  # the common checks report a malformed --splits
    spec = args.input or join(args.output, "cap")
    files: list[tuple[str, int]] = []
    if not dry_run:  # a dry run builds the graph without reading a (maybe remote) input
        try:
            files = parquet_inputs(spec)
        except Exception as exc:  # noqa: BLE001 - an unreachable or broken input is a usage problem, reported now
            problems.append(f"--input {spec}: {exc}")
        else:
            if not files:
                hint = "" if args.input else " (build Cap first: `beam_runner.py cap --output OUTPUT`, or give --input)"
                problems.append(f"no Parquet files at {spec}{hint}")
    if problems:
        return None, problems
    llm, llm_id = worker_llm(args)
    columns = (
        ("caption", args.caption_column),
        ("image", args.image_column),
        ("example_id", args.id_column),
        ("image_sha256", "image_sha256"),
        ("image_url", "image_url"),
    )
    options = CapQAOptions(
        args.splits, args.seed, code_version, spec, tuple(files), columns, settings, llm, llm_id, args.llm_backend,
        hints_for(args, "llm"),
    )  # fmt: skip
    return options, []


def input_fingerprint(options: CapQAOptions) -> str:
    """The files' names and sizes: new Cap shards make a new CapQA run."""
    return hashlib.sha256(json.dumps(options.files).encode()).hexdigest()[:16]


def source_split(path: str, split_names: tuple[str, ...]) -> str | None:
    """The split a Cap shard belongs to (its folder name), so CapQA keeps Cap's held-out images held out."""
    folder = posixpath.basename(posixpath.dirname(path.replace("\\", "/")))
    return folder if folder in split_names else None


def _is_data(relative: str) -> bool:
    """Dead letters (_rejected), stats files (_shards) and hidden staging folders are not data."""
    return not any(part.startswith(("_", ".")) for part in relative.replace("\\", "/").split("/")[:-1])


def parquet_inputs(spec: str) -> list[tuple[str, int]]:
    """(path, bytes) of the Parquet files a spec names: a file, a glob, or a folder. A published subset folder
    (with manifest.json) gives the shards its manifest lists; any other folder gives every Parquet file under it."""
    if spec.endswith(".parquet") or any(c in spec for c in "*?["):
        return sorted((m.path, m.size_in_bytes) for m in FileSystems.match([spec])[0].metadata_list)
    root = spec.rstrip("/")
    manifest_path = join(root, MANIFEST)
    if FileSystems.exists(manifest_path):
        with FileSystems.open(manifest_path) as handle:
            listed = json.loads(handle.read())["files"]
        shards = [f["path"] for f in listed if f["path"].endswith(".parquet") and _is_data(f["path"])]
        wanted = [join(root, *shard.split("/")) for shard in shards]
        found = {m.path: m.size_in_bytes for r in FileSystems.match(wanted) for m in r.metadata_list} if wanted else {}
        missing = [p for p in wanted if p not in found]
        if missing:
            raise ValueError(f"{manifest_path} lists {len(missing)} shard(s) that are missing, e.g. {missing[0]}")
        return sorted(found.items())
    matches = FileSystems.match([join(root, "**.parquet")])[0].metadata_list
    return sorted((m.path, m.size_in_bytes) for m in matches if _is_data(m.path[len(root) + 1 :]))


def add_capqa_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = QASettings()
    parser.add_argument(
        "--input",
        default=None,
        help="Captions to ask about: a Cap subset folder (default: OUTPUT/cap; its manifest.json lists the "
        "shards), any folder of Parquet files, a Parquet file or a glob; local or gs://. Any caption Parquet "
        "works with --caption-column/--image-column.",
    )
    parser.add_argument("--caption-column", default="caption", help="Column with the caption (default: caption).")
    parser.add_argument(
        "--image-column", default="image", help="Image column, struct<bytes,path> or bytes (default: image)."
    )
    parser.add_argument(
        "--id-column",
        default="example_id",
        help="Column with a stable id of the source row (default: example_id; else the image's sha256).",
    )
    parser.add_argument(
        "--turns",
        type=int,
        default=defaults.turns,
        help=f"Question-answer pairs asked for per caption, each about a different aspect, in this order: "
        f"{'; '.join(FOCUSES)} (default: %(default)s).",
    )
    parser.add_argument(
        "--min-turns",
        type=int,
        default=defaults.min_turns,
        help="Fewer surviving pairs than this and the caption is a dead letter (default: %(default)s).",
    )
    parser.add_argument(
        "--question-tokens",
        type=int,
        default=defaults.question_tokens,
        help="Max new tokens of each question call (default: %(default)s).",
    )
    parser.add_argument(
        "--answer-tokens",
        type=int,
        default=defaults.answer_tokens,
        help="Max new tokens of each answer call; an answer cut off keeps its complete sentences "
        "(default: %(default)s).",
    )
    parser.add_argument(
        "--qa-temperature",
        type=float,
        default=defaults.temperature,
        help="Sampling temperature of both calls (default: %(default)s, greedy; seeded by --seed otherwise).",
    )
    add_llm_arguments(parser)
    add_accelerator_arguments(parser, "llm")
