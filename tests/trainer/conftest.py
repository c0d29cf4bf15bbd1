import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from clock_fixture import write_clock_shards  # noqa: E402


@pytest.fixture(scope="session")
def clock_shards(tmp_path_factory) -> Path:
    return write_clock_shards(tmp_path_factory.mktemp("shards"), {"train": 24, "validation": 8})


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory) -> Path:
    """A small byte-level BPE tokenizer saved as an HF tokenizer dir (loads in milliseconds)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from formatting.clocks import CLOCK_QUESTIONS

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    corpus = CLOCK_QUESTIONS + [
        f"User: clocks: The time shown is {h}:{m:02d} AM PM Assistant:" for h in range(1, 13) for m in range(0, 60, 7)
    ]
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    out = tmp_path_factory.mktemp("tok")
    fast.save_pretrained(out)
    json.loads((out / "tokenizer_config.json").read_text())
    return out
