"""The drafting prompt (versioned: change PROMPT_VERSION whenever the text changes).

As in PixMo-AskModelAnything, the LLM never sees the image: it answers from the image's caption and the text OCR
found in it. It must say so when those do not answer the question, so annotators reject rather than trust a guess.
"""

from inference.llm import ChatMessage

PROMPT_VERSION = "ama-draft-v1"
MAX_OCR_CHARS = 2000  # long documents: the beginning is kept (the prompt must fit small models' context)
MAX_CAPTION_CHARS = 2000

SYSTEM = (
    "You help people describe images. You cannot see the image. You are given a description of the image and "
    "the text found in it by OCR. Answer the user's question about the image in one to three short sentences, "
    "using only that information. If the information does not answer the question, say what can be told."
)


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit].rstrip() + " ..."


def user_message(question: str, ocr_text: str, caption: str) -> str:
    caption_part = _clip(caption, MAX_CAPTION_CHARS) or "(no description)"
    ocr_part = _clip(ocr_text, MAX_OCR_CHARS) or "(no text found)"
    return (
        f"Image description: {caption_part}\n\n"
        f"Text in the image (OCR):\n{ocr_part}\n\n"
        f"Question: {question.strip()}\n"
        "Answer:"
    )


def draft_messages(question: str, ocr_text: str, caption: str) -> tuple[ChatMessage, ...]:
    return (ChatMessage("system", SYSTEM), ChatMessage("user", user_message(question, ocr_text, caption)))
