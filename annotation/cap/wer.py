"""Word error rate of a transcript against what was actually said.

Both texts are normalised the same way before counting (lower case, punctuation and hyphens dropped, common
spoken-number words and digits made one form), so WER measures misheard words, not writing conventions.
"""

import re

_NUMBERS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20",
}  # fmt: skip
_SPELLINGS = {"colour": "color", "grey": "gray", "ok": "okay", "mr": "mister", "mrs": "missus", "vs": "versus"}


def normalise_words(text: str) -> list[str]:
    text = text.lower().replace("-", " ").replace("’", "'")
    text = re.sub(r"'s\b", "s", text)
    text = re.sub(r"[^a-z0-9' ]+", " ", text).replace("'", "")
    words = [_NUMBERS.get(w, w) for w in text.split()]
    return [_SPELLINGS.get(w, w) for w in words]


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level Levenshtein distance (substitutions + deletions + insertions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_word in enumerate(hypothesis, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Edits / reference words, after normalising both; 0.0 for two empty texts, 1.0 for an empty reference
    against a non-empty hypothesis (every word inserted, none expected)."""
    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)
