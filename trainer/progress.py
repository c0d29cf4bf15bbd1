"""Training progress for people: a live bar on a terminal, plain timestamped lines in a log file."""

import sys
import time


class Progress:
    """`update(step, row)` after each logged step. On a TTY a tqdm bar; otherwise one line every
    `every_s` seconds (and at the end), so a log file gets a readable history instead of carriage returns."""

    def __init__(self, total: int, initial: int = 0, every_s: float = 30.0, stream=None):
        self.stream = stream or sys.stdout
        self.total, self.every_s = total, every_s
        self.t0 = self.t_last = time.time()
        self.bar = None
        if self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc="train", dynamic_ncols=True, file=self.stream)
        self.step = initial

    def update(self, step: int, row: dict | None = None) -> None:
        if self.bar is not None:
            self.bar.update(step - self.step)
            if row:
                self.bar.set_postfix(loss=f"{row['loss']:.3f}", samples_s=f"{row['samples_per_s']:.0f}")
        elif row and (time.time() - self.t_last >= self.every_s or step == self.total):
            self.t_last = time.time()
            self.stream.write(self.line(step, row) + "\n")
            self.stream.flush()
        self.step = step

    def line(self, step: int, row: dict) -> str:
        elapsed = time.time() - self.t0
        extra = f" aux {row['aux_loss']:.4f}" if "aux_loss" in row else ""
        extra += f" label {row['label_loss']:.4f}" if "label_loss" in row else ""
        return (
            f"step {step}/{self.total} loss {row['loss']:.4f}{extra} lr {row['lr']:.2e} "
            f"{row['samples_per_s']:.1f} samples/s elapsed {elapsed / 60:.1f} min"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
