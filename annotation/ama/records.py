"""What makes an AMARecord usable as a pixmo-ask-model-anything row, and the provenance it carries."""

import json

from annotation.exports import AMA_ACTIONS, AMARecord

NO_ANSWER = "no accepted answer"


def final_round(record: AMARecord) -> int | None:
    """Index of the last accepted or edited round (the one the final answer comes from), or None."""
    for index in range(len(record.rounds) - 1, -1, -1):
        if record.rounds[index].action in ("accepted", "edited"):
            return index
    return None


def round_answer(record: AMARecord, index: int) -> str:
    chosen = record.rounds[index]
    return chosen.edited_answer if chosen.action == "edited" else chosen.draft


def ama_problems(record: AMARecord) -> list[str]:
    """Why this record cannot become a row (empty when it can). NO_ANSWER comes alone: it is the common case."""
    if not record.final_answer.strip():
        return [NO_ANSWER]
    problems = []
    if not record.record_id.strip():
        problems.append("empty record_id")
    if not record.image.strip():
        problems.append("no image")
    if not record.question.strip():
        problems.append("empty question")
    for i, item in enumerate(record.rounds):
        if item.action not in AMA_ACTIONS:
            problems.append(f"round {i}: action {item.action!r} is not one of {', '.join(AMA_ACTIONS)}")
        elif item.action == "edited" and not item.edited_answer.strip():
            problems.append(f"round {i}: edited without an edited answer")
    if problems:
        return problems
    index = final_round(record)
    if index is None:
        problems.append("a final answer but no accepted or edited round")
    elif round_answer(record, index).strip() != record.final_answer.strip():
        problems.append(f"the final answer differs from round {index}'s {record.rounds[index].action} answer")
    return problems


def draft_history(record: AMARecord) -> str:
    """Every round as JSON (draft, action, reason, edited answer, model, OCR text, time), in order."""
    rounds = [
        {
            "round": i,
            "draft": r.draft,
            "action": r.action,
            "reason": r.reason,
            "edited_answer": r.edited_answer,
            "model": r.model,
            "ocr_text": r.ocr_text,
            "at": r.at,
        }
        for i, r in enumerate(record.rounds)
    ]
    return json.dumps(rounds, ensure_ascii=False)
