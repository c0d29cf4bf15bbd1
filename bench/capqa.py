"""CapQA conversations per second: both LLM rounds (ask, then answer the kept questions) one request at a time vs
batched, same captions, same model, in this one process one after another, so the ratio compares like with like.
Also prints the yield (kept pairs / asked). Not a test: nothing here asserts a time.

    .venv/bin/python bench/capqa.py [--model PATH] [--captions 4] [--turns 4] [--batch-size 16] [--threads 1]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from annotation.capqa import QASettings, answer_request, ask_requests, build_conversation, read_question  # noqa: E402
from inference.llm import LLMConfig, LLMRequest, LLMResult  # noqa: E402
from inference.llm.transformers_backend import TransformersBackend  # noqa: E402

CAPTIONS = [
    "A blue city bus is parked on a street in front of a building. Four people stand on the sidewalk next to the "
    "bus; one man wears a dark jacket and jeans. The words 'cero emisiones' are written on its side.",
    "Two men in dark suits stand in a room. The man on the left is bald and wears a red tie. The man on the right "
    "smiles and holds his hand up. A wooden wall is behind them.",
    "A white kitchen with a wooden table in the middle. Three red chairs stand around the table and a green bowl of "
    "apples sits on it. A clock on the wall shows ten past four.",
    "A small brown dog runs across a green lawn with a yellow ball in its mouth. Behind it are a white fence and two "
    "tall trees. The sky is blue with a few clouds.",
]


def converse(generate, captions: list[str], settings: QASettings) -> tuple[int, int]:
    """Both rounds for every caption through `generate`; returns (pairs kept, pairs asked)."""
    asks = [r for i, c in enumerate(captions) for r in ask_requests(f"c{i}", c, settings, seed=0)]
    replies = generate(asks)
    asked = {i: [read_question(c, r) for r in replies if r.key.startswith(f"c{i}#")] for i, c in enumerate(captions)}
    answers = generate(
        [answer_request(f"c{i}", captions[i], a, settings, seed=0) for i in asked for a in asked[i] if not a.dropped]
    )
    kept = 0
    for i, caption in enumerate(captions):
        mine = [r for r in answers if r.key.startswith(f"c{i}#")]
        kept += len(build_conversation(caption, asked[i], mine).messages) // 2
    return kept, len(asks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="HF dir, .gguf or hub name (default: embedded SmolLM2).")
    parser.add_argument("--captions", type=int, default=4, help=f"Captions (at most {len(CAPTIONS)}).")
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch default).")
    args = parser.parse_args()

    backend = TransformersBackend(LLMConfig(model=args.model, batch_size=args.batch_size, cpu_threads=args.threads))
    backend.load()
    captions = CAPTIONS[: args.captions]
    settings = QASettings(turns=args.turns)

    def one_at_a_time(requests: list[LLMRequest]) -> list[LLMResult]:
        return [result for request in requests for result in backend.generate([request])]

    rows = []
    for name, generate in (
        ("one at a time (baseline)", one_at_a_time),
        (f"batched ({args.batch_size})", backend.generate),
    ):
        start = time.perf_counter()
        kept, asked = converse(generate, captions, settings)
        seconds = time.perf_counter() - start
        rows.append((name, seconds, len(captions) / seconds, kept, asked))

    base = rows[0][2]
    print(f"\nCapQA, {len(captions)} captions x {args.turns} turns, model {backend.model_id}, threads {args.threads}")
    print(f"{'mode':<26}{'seconds':>9}{'conv/s':>9}{'vs baseline':>13}{'kept/asked':>12}")
    for name, seconds, rate, kept, asked in rows:
        print(f"{name:<26}{seconds:>9.1f}{rate:>9.3f}{rate / base:>12.2f}x{kept:>7}/{asked:<4}")


if __name__ == "__main__":
    main()
