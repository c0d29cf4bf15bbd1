"""CapQA: an LLM asks and answers its own questions about an image from its caption only (pixmo-cap-qa). No Beam."""

from annotation.capqa.conversation import QASettings, build_conversation, qa_requests
from annotation.capqa.parsing import parse_qa
from annotation.capqa.prompts import FOCUSES, PROMPTS_VERSION
from annotation.capqa.support import qa_problem

__all__ = [
    "FOCUSES",
    "PROMPTS_VERSION",
    "QASettings",
    "build_conversation",
    "parse_qa",
    "qa_problem",
    "qa_requests",
]
