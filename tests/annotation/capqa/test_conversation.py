"""Requests per focus, and conversations built from the replies in focus order with every drop recorded."""

from annotation.capqa import FOCUSES, QASettings, build_conversation, qa_requests
from inference.llm.types import LLMResult

CAPTION = "A blue city bus is parked on a street. Four people stand next to it."


def test_one_request_per_focus_keyed_by_turn():
    requests = qa_requests("capqa-x", CAPTION, QASettings(turns=3), seed=7)
    assert [r.key for r in requests] == ["capqa-x#0", "capqa-x#1", "capqa-x#2"]
    assert all(CAPTION in r.messages[-1].content for r in requests)
    assert [FOCUSES[i] in r.messages[-1].content for i, r in enumerate(requests)] == [True] * 3
    assert {r.params.seed for r in requests} == {7}


def test_settings_are_checked():
    assert QASettings(turns=0).validate() and QASettings(min_turns=5, turns=4).validate()
    assert QASettings().validate() == []


def test_conversation_keeps_good_pairs_in_order_and_records_drops():
    results = [
        LLMResult("k#2", "Question: How many people stand next to it?\nAnswer: Four.", "stop"),
        LLMResult("k#0", "Question: What is parked on the street?\nAnswer: A blue city bus.", "stop"),
        LLMResult("k#1", "The bus is blue.", "stop"),
        LLMResult("k#3", "", "error", error="empty completion"),
        LLMResult("k#4", "Question: What is parked on the street?\nAnswer: A bus.", "stop"),
    ]
    conversation = build_conversation(CAPTION, results)
    assert conversation.messages == [
        "What is parked on the street?", "A blue city bus.", "How many people stand next to it?", "Four.",
    ]  # fmt: skip
    assert conversation.focuses == [FOCUSES[0], FOCUSES[2]]
    reasons = [r["reason"] for r in conversation.rejected]
    assert (
        reasons[0].startswith("malformed")
        and reasons[1].startswith("llm: empty")
        and reasons[2] == "duplicate question"
    )
