"""Conversations and how Molmo turns them into text: a style tag on the first user turn, a length hint for
captions, and `User: ... Assistant:` role markers.
"""

from dataclasses import dataclass, field

import numpy as np

# Styles whose answers are free text of a wanted length: the prefix tells the model roughly how long.
LENGTH_HINT_STYLES = frozenset({"long_caption", "transcript"})
LENGTH_HINT_STD = 25.0  # chars of noise on the hint, so the model does not learn to count exactly
LENGTH_HINT_DROP = 0.10  # share of examples without a hint, so the model also works without one
CHARS_PER_LENGTH_UNIT = 15


@dataclass
class Conversation:
    """Alternating user/assistant turns about one image, in one Molmo style."""

    messages: list[str]
    style: str
    # Values an evaluator needs to score an answer (e.g. hour/minute of a clock); not shown to the model.
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValueError("a conversation needs at least one message")


def length_hint(answer: str, rng: np.random.Generator) -> int:
    """Molmo's caption length hint: (chars + Normal(0, 25)) // 15."""
    return (len(answer) + int(rng.normal(scale=LENGTH_HINT_STD))) // CHARS_PER_LENGTH_UNIT


def style_prefix(style: str, answer: str | None, rng: np.random.Generator | None) -> str:
    """`long_caption 83:` for captions (hint dropped 10% of the time), `clocks:` for other styles.

    At inference (answer None) captions get no number, like Molmo's unconditioned `long_caption :`.
    """
    if style in LENGTH_HINT_STYLES:
        if answer is None or rng is None or rng.random() < LENGTH_HINT_DROP:
            return f"{style} :"
        return f"{style} {length_hint(answer, rng)}:"
    return f"{style}:"


def render(
    conv: Conversation, rng: np.random.Generator | None, for_inference: bool = False, first: bool = True
) -> list[str]:
    """The conversation's turns as text to tokenize: user turns carry the role markers, assistant turns
    start with a space. With `for_inference` the final assistant turn is dropped (the model writes it).

    `first` is False for conversations that follow another one in the same sequence, so they start with
    a space like every later turn.
    """
    messages = list(conv.messages)
    if for_inference and len(messages) % 2 == 0:
        messages = messages[:-1]
    answer = conv.messages[1] if len(conv.messages) > 1 and not for_inference else None
    prefix = style_prefix(conv.style, answer, rng)
    messages[0] = f"{prefix} {messages[0]}" if messages[0] else prefix
    out = []
    for i, msg in enumerate(messages):
        text = f"User: {msg} Assistant:" if i % 2 == 0 else msg
        out.append(text if (i == 0 and first) else " " + text)
    return out
