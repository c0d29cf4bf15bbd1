"""Transcript(s) -> the LLM request for a dense caption, and the checks a caption must pass before it is kept.

PixMo-Cap: annotators speak for 60-90 s; a text-only LLM turns the ASR transcript into a clean written
caption (fillers and false starts removed, every visual detail kept, one style, nothing invented). With several
recordings of one image, each gets its own caption and one merged caption combines them all.

The checks are honest filters, not repairs: a caption that is empty, too short, mostly words the speaker never
said, a copy of the instructions, or stuck repeating itself is rejected with the reason. The transcript is never
passed off as a caption.
"""

import re
from dataclasses import dataclass

from annotation.cap.wer import normalise_words
from inference.llm.types import ChatMessage, GenerationParams, LLMRequest

PROMPTS_VERSION = "cap-prompts-1"

SYSTEM = "You write clear, factual descriptions of photos."

SINGLE = (
    'Here is what a person said while looking at a photo:\n\n"{transcript}"\n\n'
    "Rewrite it as a clear written description of the photo. Remove filler words like um and uh, false starts "
    "and repeated words. Keep every visual detail. Do not add anything that was not said."
)

MERGED = (
    'Here is what {count} people said while looking at the same photo:\n\n"{transcripts}"\n\n'
    "Rewrite it as one clear written description of the photo. Remove filler words like um and uh, false starts "
    "and repeated words. Keep every visual detail. Do not add anything that was not said."
)

# Phrases of the instructions: a caption containing them copied the prompt instead of writing a caption.
PROMPT_ECHOES = ("filler words", "false starts", "what a person said", "what 2 people said", "do not add anything")
FILLERS = {"um", "uh", "erm", "er", "hmm", "mm", "uhm", "ah"}
STOPWORDS = set(
    "a an the and or but so of in on at to from with by for as is are was were be been being it its this that these "
    "those there here they them their he she his her him you your we our i me my mine also very just like some any "
    "one which who what where when while has have had do does did not no can could would will shall should may "
    "might into onto over under up down out off about than then too each both all other another such same own "
    "okay ok well yeah really kind sort see seen shows show showing picture photo image photograph looks look "
    "appears seems scene view shot".split()
)
_LABEL = re.compile(r"^\s*(?:\*\*)?(?:written |rewritten )?(?:caption|description)\s*:?(?:\*\*)?\s*:?", re.IGNORECASE)
_INTRO = re.compile(r"^\s*(?:sure|certainly|here is|here's)[^:\n]{0,80}:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class CaptionSettings:
    max_new_tokens: int = 320  # PixMo captions average ~196 words
    temperature: float = 0.0  # greedy: the same transcript always gets the same caption
    min_words: int = 8
    min_coverage: float = 0.3  # share of the transcript's content words the caption keeps
    max_novel: float = 0.35  # share of the caption's content words the speaker never said

    def validate(self) -> list[str]:
        problems = []
        if self.max_new_tokens < 16:
            problems.append("--caption-tokens must be at least 16")
        if self.temperature < 0:
            problems.append("--caption-temperature must be >= 0")
        if self.min_words < 1:
            problems.append("--caption-min-words must be at least 1")
        if not (0 <= self.min_coverage <= 1 and 0 <= self.max_novel <= 1):
            problems.append("--caption-min-coverage and --caption-max-novel must be in [0, 1]")
        return problems


def caption_request(key: str, transcripts: list[str], settings: CaptionSettings, seed: int) -> LLMRequest:
    """The request for one transcript's caption, or (several transcripts) the merged caption."""
    if len(transcripts) == 1:
        prompt = SINGLE.format(transcript=transcripts[0])
    else:
        # Small models follow one quoted text far better than a numbered list: the recordings are joined.
        prompt = MERGED.format(count=len(transcripts), transcripts=" ".join(transcripts))
    params = GenerationParams(max_new_tokens=settings.max_new_tokens, temperature=settings.temperature, seed=seed)
    return LLMRequest(messages=(ChatMessage("system", SYSTEM), ChatMessage("user", prompt)), params=params, key=key)


def content_words(text: str) -> list[str]:
    text = re.sub(r"[’']\w*", "", text.lower())  # contractions and possessives: they're -> they, bus's -> bus
    words = re.findall(r"[a-z]+", text)
    return [_stem(w) for w in words if w not in STOPWORDS and w not in FILLERS and len(w) > 1]


_IRREGULAR = {"men": "man", "women": "woman", "people": "person", "children": "child", "stood": "stand"}


def _stem(word: str) -> str:
    word = _IRREGULAR.get(word, word)
    if word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and not word.endswith("ss") and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class CleanedCaption:
    text: str
    cut: str = ""  # what cleaning cut away, said for a person ("" when nothing was cut)


def clean_caption(text: str, truncated: bool = False) -> str:
    """The model's text as one plain paragraph: labels, quotes, markdown and leftover fillers removed; a caption
    cut off by the token budget loses its unfinished last sentence."""
    return clean_caption_explained(text, truncated).text


def clean_caption_explained(text: str, truncated: bool = False) -> CleanedCaption:
    """`clean_caption`, and what it cut (a loop, an unfinished sentence), so an empty result says why."""
    raw = text.strip()
    text = _INTRO.sub("", raw)
    text = _LABEL.sub("", text)
    text = re.sub(r"[*#_`]+", "", text)
    text = re.sub(r"^\s*(?:[-•]|\d+[.)])\s+", "", text, flags=re.MULTILINE)
    text = " ".join(text.split())
    text = re.sub(r"(?i)(?<![\w'])(?:um|uh|erm|uhm|hmm)(?![\w'])[,.]?\s*", "", text)
    text = text.strip().strip('"“”').strip()
    cut = ""
    looped = _loop_start(text)
    if looped is not None:  # the model started repeating itself: keep what came before the loop
        cut = f"cleaning cut a loop ({len(text) - looped} of {len(raw)} chars repeat earlier text)"
        text, truncated = text[:looped], True
    if truncated:
        ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", text)]
        if not ends and text.strip():
            unfinished = "an unfinished first sentence (cut at the token limit)"
            cut = (cut + ", then " if cut else "cleaning cut ") + unfinished
        text = text[: ends[-1]] if ends else ""
    if not raw:
        cut = "the model wrote nothing"
    elif not text.strip() and not cut:
        cut = f"only labels, markdown or fillers ({len(raw)} chars)"
    return CleanedCaption(text.strip(), cut)


def _spoken_words(text: str) -> list[str]:
    return [w for w in normalise_words(text) if w not in FILLERS]


def _loop_start(text: str, n: int = 5, times: int = 3) -> int | None:
    """Where a small model's loop starts, if it loops: the sentence that repeats an earlier sentence, or that
    holds the second use of the first 5-word phrase used three times (ignoring case and punctuation)."""
    seen: set[str] = set()
    sentences = [(m.start(), re.findall(r"[a-z0-9']+", m.group().lower())) for m in re.finditer(r"[^.!?]+[.!?]*", text)]
    for start, words in sentences:
        key = " ".join(words)
        if key and key in seen:
            return start
        seen.add(key)
    where: dict[tuple[str, ...], list[int]] = {}
    for start, words in sentences:
        for i in range(len(words) - n + 1):
            uses = where.setdefault(tuple(words[i : i + n]), [])
            uses.append(start)
            if len(uses) == times:
                return uses[1]
    return None


def repeated_clause(caption: str) -> tuple[str, int] | None:
    """A clause the caption says again and again (5+ words twice, or 3+ words three times), with its count."""
    clauses = [" ".join(re.findall(r"[a-z0-9']+", c.lower())) for c in re.split(r"[,;:.!?]+", caption)]
    counts: dict[str, int] = {}
    for clause in clauses:
        if clause:
            counts[clause] = counts.get(clause, 0) + 1
    for clause, n in counts.items():
        words = len(clause.split())
        if (words >= 5 and n >= 2) or (words >= 3 and n >= 3):
            return clause, n
    return None


def caption_problems(caption: str, transcripts: list[str], settings: CaptionSettings, cut: str = "") -> list[str]:
    """Why `caption` must not be used for these transcripts (empty list: keep it). `cut` is what cleaning removed,
    so an empty caption says what emptied it."""
    words = caption.split()
    if not words:
        return [f"empty caption: {cut}" if cut else "empty caption"]
    lower = caption.lower()
    echoes = [p for p in PROMPT_ECHOES if p in lower]
    if echoes:
        return [f"copies the instructions ({echoes[0]!r})"]
    if any(_spoken_words(caption) == _spoken_words(t) for t in transcripts):
        return ["copies the transcript word for word instead of rewriting it"]
    repeated = repeated_clause(caption)
    if repeated is not None:
        return [f"repeats itself: {repeated[0]!r} {repeated[1]} times"]
    problems = []
    if len(words) < settings.min_words:
        problems.append(f"too short: {len(words)} words, under {settings.min_words}")
    caption_content = content_words(caption)
    source = {w for t in transcripts for w in content_words(t)}
    if caption_content:
        novel = [w for w in caption_content if w not in source]
        share = len(novel) / len(caption_content)
        if share > settings.max_novel:
            problems.append(
                f"invents: {share:.0%} of its content words were never said (e.g. {', '.join(sorted(set(novel))[:5])})"
            )
    if source:
        coverage = len(source & set(caption_content)) / len(source)
        if coverage < settings.min_coverage:
            problems.append(f"drops details: keeps {coverage:.0%} of the transcript's content words")
    return problems
