"""Prompt templates per Molmo style, and how a template is filled.

The lists follow the wording of Molmo's `GENERAL_PROMPTS_V1` (a selection: enough variety that a model
cannot key on one phrasing). Templates use `{label}` / `{question}` placeholders.
"""

import re

import numpy as np

PROMPTS: dict[str, list[str]] = {
    "long_caption": [
        "Describe this image.",
        "Describe this image",
        "describe the image",
        "Write a long description of this image.",
        "caption the picture",
        "Caption",
        "Construct a long caption for this image",
        "Generate a caption",
        "Create a detailed caption",
        "Write a long caption",
        "Describe this image in detail",
        "What can be seen in this image?",
        "What do you see in the image?",
        "Look at this photo carefully and then tell me about it in detail",
        "Tell me about this picture.",
        "Write a paragraph about this image.",
        "Generate a long caption about this image.",
    ],
    "transcript": [
        "Describe this image as if you are a person speaking",
        "Imagine you are a person talking about this image. Generate a transcript of what you would say.",
        "Generate an audio transcript of a person describing this image",
        "Create a transcript of a human describing this image out loud",
        "Describe this in this style of a human talking",
    ],
    "pointing": [
        "Point to {label}\nPlease say 'This isn't in the image.' if it is not in the image.",
        'Point to all occurrences of "{label}"',
        "Point to any {label} in the image",
        "Point: Where are the {label}",
        "Show me where the {label} are",
        "Can you show me where the {label} are?",
        "Where are the {label}?",
        "Generate a list of points showing where the {label} are.",
        'Find the "{label}".',
        "Locate all {label}.",
        "Locate every {label}.",
        "Object: {label}\nInstruction: Point to the object.",
        "find {label}",
        "Point to every {label}",
        "Look for {label} in the image and show me where they are.",
        "Point out each {label} in the image.",
        "Can you point out all {label} in this image?",
        "show me all visible {label}",
    ],
    "point_count": [
        "How many {label} are there?",
        "How many {label}?",
        "how many {label}.",
        "How many {label} are there in the image?",
        "Tell me how many {label} there are",
        "Tell me how many {label} there are and point to them.",
        "count {label}",
        "count every {label}",
        "Count the {label}.",
        "How many {label} do you see?",
        "How many {label} are visible?",
        "Count all the {label}",
        "Point to and count the {label} in the picture.",
        "Point and count {label}",
        "Locate the {label} and count them",
        "Find all the {label}. How many are there?",
        "Point at {label} and then tell me the count.",
        "What is the total number of {label} in the image?",
        "Point to all the visible {label} output the total count.",
        "Where are the {label}? How many are there?",
        "Object: {label}\nInstruction: Point to the object and output the total count.",
        "Can you count the number of {label} in the image?",
    ],
}

# Molmo prefixes "how many" questions in QA data (which answers with plain numbers) with one of these,
# so the model learns that counting questions without it should point.
NO_POINT_PREFIX: list[str] = [
    "No pointing: ",
    "no pointing:\n",
    "No pointing:\n",
    "Not pointing:\n",
    "No Points: ",
    "NO POINTING\n",
    "No pointing please: ",
    "Do not point. ",
    "Refrain from pointing. ",
    "Avoid generating points . ",
]

_PLACEHOLDER = re.compile(r"{([a-z_]+)}")


def fill_template(template: str, **values: str) -> str:
    """Replace `{name}` placeholders; unlike str.format, braces in the values or other text are left alone."""
    missing = set(_PLACEHOLDER.findall(template)) - set(values)
    if missing:
        raise KeyError(f"template {template!r} needs {sorted(missing)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), template)


def sample_prompt(style: str, rng: np.random.Generator, **values: str) -> str:
    """A random template of `style`, filled with `values`."""
    templates = PROMPTS[style]
    return fill_template(templates[int(rng.integers(len(templates)))], **values)


def maybe_no_point_prefix(question: str, rng: np.random.Generator) -> str:
    """Prefix a `how many ...` question so it is not confused with the point-then-count task."""
    if re.fullmatch(r"how many.*", question.strip().lower(), flags=re.DOTALL):
        return NO_POINT_PREFIX[int(rng.integers(len(NO_POINT_PREFIX)))] + question
    return question
