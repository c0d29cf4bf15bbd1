"""End-to-end check of the trainer without the pipelines: draw clock shards, then run trainer.verify.

    PYTHONPATH=. .venv/bin/python bench/trainer_fixture_verify.py --minutes 5 --out runs/fixture_verify

The shards come from the test fixture (PIL-drawn faces with an hour and a minute hand), so this measures
the trainer, not the Clocks pipeline's rendering.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "trainer"))

from clock_fixture import write_clock_shards  # noqa: E402

from trainer.verify import verify  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/fixture_verify")
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--config", default="small")
    p.add_argument("--train-rows", type=int, default=3000)
    p.add_argument("--eval-rows", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=8)
    a = p.parse_args()
    shards = Path(a.out) / "shards"
    if not shards.exists():
        write_clock_shards(
            shards, {"train": a.train_rows, "validation": a.eval_rows}, shards=4, rows_per_group=64, sizes=(96, 160)
        )
    verify(
        [str(shards)],
        a.minutes,
        a.config,
        str(Path(a.out) / "verify"),
        eval_examples=a.eval_rows,
        batch_size=a.batch_size,
    )


if __name__ == "__main__":
    main()
