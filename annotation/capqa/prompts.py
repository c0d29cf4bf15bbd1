"""The CapQA prompts: the model first asks one question about a named aspect of the image, then answers it.

PixMo-CapQA prompts a text-only LLM with a caption and has it ask and answer its own questions. A small model
asked for a whole conversation at once repeats one question; asked for a question and its answer in one reply,
SmolLM2-135M mostly stops after the question. So each pair takes two calls: ask (one question about one focus),
then answer (the caption and that question). The conversation is the kept pairs in focus order.
"""

PROMPTS_VERSION = "capqa-prompts-2"

ASK_SYSTEM = "You write questions about a photo from its description."

ASK = (
    "Description: {caption}\n\n"
    "Write one short question a person looking at the photo could ask about {focus}. "
    "The description must contain the answer. Write only the question."
)

ANSWER_SYSTEM = "You answer questions about a photo from its description. Use only facts in the description."

ANSWER = (
    "Description: {caption}\n\n"
    "Question about the photo: {question}\n\n"
    "Answer the question in one short sentence, using only facts from the description."
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

# Phrases of the instructions: a question or answer containing them copied the prompt.
PROMPT_ECHOES = (
    "using only facts",
    "the description must contain",
    "write only the question",
    "a person looking at the photo could ask",
    "in one short sentence",
    "question about the photo:",
)
