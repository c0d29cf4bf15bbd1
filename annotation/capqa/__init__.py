"""CapQA: an LLM asks and answers its own questions about an image from its caption only (pixmo-cap-qa). No Beam."""

from annotation.capqa.conversation import (
    Asked,
    Conversation,
    QASettings,
    answer_request,
    ask_requests,
    build_conversation,
    read_question,
)
from annotation.capqa.prompts import FOCUSES, PROMPTS_VERSION
from annotation.capqa.support import ANSWER_CHECKS, QUESTION_CHECKS

__all__ = [
    "ANSWER_CHECKS",
    "FOCUSES",
    "PROMPTS_VERSION",
    "QUESTION_CHECKS",
    "Asked",
    "Conversation",
    "QASettings",
    "answer_request",
    "ask_requests",
    "build_conversation",
    "read_question",
]
