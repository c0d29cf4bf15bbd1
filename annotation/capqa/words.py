"""Words, numbers and names of a text, compared between a caption and what the model wrote about it.

CapQA's own small copy (not annotation/cap's) so the two subsets' checks can change independently.
"""

import re

STOPWORDS = frozenset(
    "a an the and or but so of in on at to from with by for as is are was were be been being it its this that "
    "these those there here they them their he she his her him you your we our i me my also very just some any "
    "which who whom whose what where when why how while has have had do does did not no can could would will "
    "should may might into onto over under up down out off about than then too each both all other another such "
    "same own only one".split()
)

# Words a question may use without the caption using them: they ask about the image, they do not claim anything.
QUESTION_VOCABULARY = frozenset(
    "image photo picture photograph scene view shown visible see seen main object thing person people someone "
    "something anyone anything colour color colours colors kind type sort many much number count total "
    "doing wearing hold holding happening written write writes say says text word words sign letters "
    "where located location position place side left right top bottom middle centre center front back behind "
    "near next beside around above below between inside outside background foreground describe overall look looks "
    "like appear appears".split()
)

_IRREGULAR = {"men": "man", "women": "woman", "people": "person", "children": "child", "stood": "stand"}

NUMBER_WORDS = {
    "zero": 0, "none": 0, "one": 1, "single": 1, "two": 2, "pair": 2, "both": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "dozen": 12,
    "twenty": 20, "hundred": 100,
}  # fmt: skip


def stem(word: str) -> str:
    """A crude stem so 'buses'/'bus', 'standing'/'stands' and 'men'/'man' match."""
    word = _IRREGULAR.get(word, word)
    if word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and not word.endswith("ss") and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    """Lower-case words; contractions and possessives lose their tail (they're -> they, bus's -> bus)."""
    return re.findall(r"[a-z]+", re.sub(r"(?<=[a-z])[’']\w*", "", text.lower()))


def content_words(text: str) -> list[str]:
    """Stemmed words that carry meaning: no stopwords, no number words, no single letters."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and w not in NUMBER_WORDS and len(w) > 1]


def numbers(text: str) -> set[int]:
    """Exact numbers written as digits or number words."""
    found = {int(d) for d in re.findall(r"\b\d+\b", text)}
    return found | {NUMBER_WORDS[w] for w in words(text) if w in NUMBER_WORDS}


def names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence (names, places, brands), lower-cased."""
    found = set()
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        tokens = re.findall(r"[A-Za-z][\w-]*", sentence)
        found |= {t.lower() for t in tokens[1:] if t[0].isupper() and t != "I"}
    return found


def normalised(text: str) -> str:
    """Lower-case letters and digits only: for duplicate checks."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))
