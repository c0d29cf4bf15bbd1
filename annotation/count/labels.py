"""Class names as they read in questions: "How many people are there?", not "How many person".

Covers COCO's 80 names (the default label set of ultralytics weights) and ordinary English nouns; the last
word of a phrase is the one made plural ("wine glass" -> "wine glasses").
"""

IRREGULAR = {
    "person": "people",
    "man": "men",
    "woman": "women",
    "child": "children",
    "mouse": "mice",
    "knife": "knives",
    "leaf": "leaves",
    "foot": "feet",
    "tooth": "teeth",
    "goose": "geese",
}
SAME_PLURAL = {"sheep", "deer", "fish", "skis", "scissors", "glasses", "aircraft", "series", "species"}


def plural(name: str) -> str:
    words = name.strip().lower().split()
    if not words:
        raise ValueError("empty class name")
    last = words[-1]
    if last in IRREGULAR:
        last = IRREGULAR[last]
    elif last in SAME_PLURAL:
        pass
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    elif last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return " ".join(words[:-1] + [last])
