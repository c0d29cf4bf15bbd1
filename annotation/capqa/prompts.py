"""The CapQA prompt: one question-answer pair per call, each call steered to a different aspect of the image.

PixMo-CapQA prompts a text-only LLM with a caption and asks for a conversation about the image. One pair per call,
with a named focus, is what a small model can follow (asked for a whole conversation at once, SmolLM2-135M repeats
one question); the conversation is the kept pairs in focus order.
"""

PROMPTS_VERSION = "capqa-prompts-1"

SYSTEM = "You write questions and answers about a photo from its description. Use only facts in the description."

USER = (
    "Description: {caption}\n\n"
    "Write one question a person could ask about {focus}, and answer it using only the description.\n"
    "Use this format:\nQuestion: <question>\nAnswer: <answer>"
)

# What each turn asks about, in conversation order (the first --turns of them are used).
FOCUSES = (
    "the main object",
    "the colours of things",
    "how many people or objects there are",
    "where things are",
    "what someone is doing or wearing",
    "any text or words written in the image",
    "the background",
    "the overall scene",
)

# Phrases of the instructions: an answer or question containing them copied the prompt.
PROMPT_ECHOES = ("using only the description", "use this format", "<question>", "<answer>", "a person could ask")
