"""Two rounds per caption: a question per focus, an answer per kept question; the conversation keeps good pairs in
focus order and records every dropped one with its round, check and reason."""

from annotation.capqa import FOCUSES, QASettings, answer_request, ask_requests, build_conversation, read_question
from inference.llm.types import LLMResult

CAPTION = "A blue city bus is parked on a street. Four people stand next to it."


def test_one_ask_request_per_focus_keyed_by_turn():
    requests = ask_requests("capqa-x", CAPTION, QASettings(turns=3, question_tokens=20), seed=7)
    assert [r.key for r in requests] == ["capqa-x#0", "capqa-x#1", "capqa-x#2"]
    assert all(CAPTION in r.messages[-1].content for r in requests)
    assert [FOCUSES[i] in r.messages[-1].content for i, r in enumerate(requests)] == [True] * 3
    assert {(r.params.seed, r.params.max_new_tokens) for r in requests} == {(7, 20)}


def test_settings_are_checked():
    assert QASettings(turns=0).validate() and QASettings(min_turns=5, turns=4).validate()
    assert QASettings(answer_tokens=2).validate() and QASettings(temperature=-1).validate()
    assert QASettings().validate() == []


def test_questions_are_read_or_dropped_with_their_check():
    good = read_question(CAPTION, LLMResult("k#1", "Question: What colour is the bus?", "stop"))
    assert good.question == "What colour is the bus?" and good.dropped is None and good.turn == 1
    request = answer_request("k", CAPTION, good, QASettings(answer_tokens=30), seed=3)
    assert request.key == "k#1" and good.question in request.messages[-1].content
    assert request.params.max_new_tokens == 30
    checks = [
        read_question(CAPTION, LLMResult("k#0", "", "error", error="timeout")).dropped["check"],
        read_question(CAPTION, LLMResult("k#0", "The bus is blue.", "stop")).dropped["check"],
        read_question(CAPTION, LLMResult("k#0", "What is the driver's name?", "stop")).dropped["check"],
    ]
    assert checks == ["llm error", "malformed question", "asks about things not in the caption"]


def test_conversation_keeps_good_pairs_in_order_and_records_drops():
    def asked(turn, text):
        return read_question(CAPTION, LLMResult(f"k#{turn}", text, "stop"))

    questions = [
        asked(0, "What is parked on the street?"),
        asked(1, "What colour is the sky?"),  # dropped in round one
        asked(2, "How many people stand next to it?"),
        asked(3, "What is parked on the street?"),  # the same question again
        asked(4, "What colour is the bus?"),
        asked(5, "Where is the bus?"),
    ]
    answers = [
        LLMResult("k#2", "Answer: Four people.", "stop"),
        LLMResult("k#0", "A blue city bus.", "stop"),
        LLMResult("k#4", "The bus is red with yellow stripes.", "stop"),
        LLMResult("k#5", "", "error", error="empty completion"),
    ]
    conversation = build_conversation(CAPTION, questions, answers)
    assert conversation.messages == [
        "What is parked on the street?", "A blue city bus.", "How many people stand next to it?", "Four people.",
    ]  # fmt: skip
    assert conversation.focuses == [FOCUSES[0], FOCUSES[2]]
    dropped = [(d["turn"], d["stage"], d["check"]) for d in conversation.dropped]
    assert dropped == [
        (1, "question", "asks about things not in the caption"),
        (3, "question", "duplicate question"),
        (4, "answer", "unsupported answer"),
        (5, "answer", "llm error"),
    ]
    assert all(d["focus"] == FOCUSES[d["turn"]] and d["reason"] for d in conversation.dropped)
