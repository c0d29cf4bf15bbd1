from annotation.ama.prompts import MAX_OCR_CHARS, PROMPT_VERSION, draft_messages


def test_prompt_carries_question_ocr_and_caption_but_no_image():
    system, user = draft_messages(" What does the sign say? ", "OPEN\nEXIT", "A red door.")
    assert system.role == "system" and "cannot see the image" in system.content
    assert user.role == "user"
    assert "Question: What does the sign say?" in user.content
    assert "OPEN\nEXIT" in user.content and "A red door." in user.content
    assert PROMPT_VERSION


def test_prompt_marks_missing_inputs_and_clips_long_ocr():
    _, user = draft_messages("Q?", "", "")
    assert "(no text found)" in user.content and "(no description)" in user.content
    _, user = draft_messages("Q?", "x" * (MAX_OCR_CHARS * 3), "")
    assert len(user.content) < MAX_OCR_CHARS + 500
