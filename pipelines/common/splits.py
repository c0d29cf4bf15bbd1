"""Parse `--splits` and assign examples to splits deterministically.

`train=0.98,validation=0.01,test=0.01` gives fractions of the examples; `train=1000,validation=50` gives
exact counts (then the counts decide how many examples there are).
"""

import hashlib
from dataclasses import dataclass

SPLIT_NAMES = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitSpec:
    """Split names in order, with either fractions (summing to 1) or exact counts."""

    names: tuple[str, ...]
    values: tuple[float, ...]
    exact: bool

    @classmethod
    def parse(cls, text: str) -> "SplitSpec":
        names: list[str] = []
        values: list[float] = []
        for part in text.split(","):
            name, sep, value = part.strip().partition("=")
            name = name.strip()
            if not sep or not name:
                raise ValueError(f"--splits: {part.strip()!r} is not NAME=VALUE (e.g. train=0.98,validation=0.02)")
            if not name.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"--splits: split name {name!r} must be letters, digits, - or _")
            if name in names:
                raise ValueError(f"--splits: split {name!r} is given twice")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"--splits: {value!r} for split {name!r} is not a number") from None
            if number < 0:
                raise ValueError(f"--splits: split {name!r} has a negative size")
            names.append(name)
            values.append(number)
        exact = all(v == int(v) and v >= 1 for v in values) and any(v > 1 for v in values)
        if not exact:
            total = sum(values)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(
                    f"--splits: fractions must add up to 1 (they add up to {total:g}); "
                    "or give whole counts for every split, e.g. train=1000,validation=50"
                )
        return cls(tuple(names), tuple(values), exact)

    def total(self, num_examples: int | None) -> int:
        """How many examples a run makes: the counts' sum when exact, else `num_examples`."""
        if self.exact:
            return int(sum(self.values))
        if num_examples is None:
            raise ValueError("--num-examples is needed when --splits gives fractions")
        return num_examples

    def counts(self, num_examples: int | None) -> dict[str, int]:
        """Examples per split; fractions are rounded by largest remainder so counts add up exactly."""
        total = self.total(num_examples)
        if self.exact:
            return {n: int(v) for n, v in zip(self.names, self.values, strict=True)}
        raw = [v * total for v in self.values]
        counts = [int(r) for r in raw]
        by_remainder = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
        for i in by_remainder[: total - sum(counts)]:
            counts[i] += 1
        return dict(zip(self.names, counts, strict=True))

    def ranges(self, num_examples: int | None) -> dict[str, tuple[int, int]]:
        """Each split's half-open range of example indices; splits take consecutive blocks in order."""
        out, start = {}, 0
        for name, count in self.counts(num_examples).items():
            out[name] = (start, start + count)
            start += count
        return out

    def split_for_key(self, key: str, salt: str = "") -> str:
        """A split for an input identified by `key` (for real inputs): stable as the input set grows."""
        digest = hashlib.sha256(f"{salt}\0{key}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        weights = self.values if not self.exact else [v / sum(self.values) for v in self.values]
        edge = 0.0
        for name, weight in zip(self.names, weights, strict=True):
            edge += weight
            if u < edge:
                return name
        return self.names[-1]

    def __str__(self) -> str:
        return ",".join(f"{n}={v:g}" for n, v in zip(self.names, self.values, strict=True))
