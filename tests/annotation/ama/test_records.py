import json

import pytest

from annotation.ama.records import NO_ANSWER, ama_problems, draft_history, final_round
from annotation.exports import AMARecord, AMARound


def rec(rounds, final):
    return AMARecord("q1", "images/a.jpg", "What is it?", rounds, final)


def test_final_round_is_the_last_accepted_or_edited():
    rounds = [AMARound("a", "accepted"), AMARound("b", "rejected", reason="no"), AMARound("c", "edited", "", "C")]
    assert final_round(rec(rounds, "C")) == 2 and ama_problems(rec(rounds, "C")) == []
    assert final_round(rec(rounds[:2], "a")) == 0 and ama_problems(rec(rounds[:2], "a")) == []
    assert final_round(rec([AMARound("b", "rejected")], "")) is None


@pytest.mark.parametrize(
    "record, problem",
    [
        (rec([AMARound("a", "rejected", reason="bad")], ""), NO_ANSWER),
        (rec([], "An answer."), "no accepted or edited round"),
        (rec([AMARound("a", "accepted")], "b"), "differs from round 0's accepted answer"),
        (rec([AMARound("a", "edited")], "a"), "edited without an edited answer"),
        (rec([AMARound("a", "skipped")], "a"), "action 'skipped' is not one of"),
        (AMARecord("q1", "images/a.jpg", " ", [AMARound("a", "accepted")], "a"), "empty question"),
    ],
)
def test_problems_in_words(record, problem):
    assert any(problem in p for p in ama_problems(record)), ama_problems(record)


def test_draft_history_keeps_every_round():
    rounds = [AMARound("a", "rejected", reason="wrong", model="m", ocr_text="OPEN"), AMARound("b", "accepted")]
    history = json.loads(draft_history(rec(rounds, "b")))
    assert [h["round"] for h in history] == [0, 1]
    assert history[0] == {
        "round": 0, "draft": "a", "action": "rejected", "reason": "wrong", "edited_answer": "", "model": "m",
        "ocr_text": "OPEN", "at": "",
    }  # fmt: skip
