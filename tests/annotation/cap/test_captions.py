"""Caption prompts and the checks an LLM caption must pass (the real LLM runs in tests/pipelines/test_cap.py)."""

from annotation.cap.captions import (
    PROMPTS_VERSION,
    SYSTEM,
    CaptionSettings,
    caption_problems,
    caption_request,
    clean_caption,
    content_words,
)

TRANSCRIPT = (
    "Um, so this is, this is a photo of a blue bus parked on a street. Two men in coats walk in front of it, "
    "and behind the bus there is an old yellow building with green shutters."
)
SETTINGS = CaptionSettings()


def test_one_transcript_gets_its_own_prompt_and_several_get_one_merged_prompt():
    single = caption_request("0", [TRANSCRIPT], SETTINGS, seed=7)
    assert single.key == "0" and single.messages[0].content == SYSTEM
    assert TRANSCRIPT in single.messages[1].content and "Keep every visual detail" in single.messages[1].content
    assert single.params.temperature == 0.0 and single.params.max_new_tokens == 320 and single.params.seed == 7
    merged = caption_request("merged", [TRANSCRIPT, "A second take."], SETTINGS, seed=1)
    assert "2 people" in merged.messages[1].content and "A second take." in merged.messages[1].content
    assert PROMPTS_VERSION.startswith("cap-prompts-")


def test_cleaning_removes_labels_markdown_and_leftover_fillers():
    raw = 'Here is the description:\n\n**Caption:** "A blue bus, um, is parked on a street.\n- Two men walk by."'
    assert clean_caption(raw) == "A blue bus, is parked on a street. Two men walk by."


def test_a_cut_off_caption_loses_its_unfinished_sentence():
    assert clean_caption("A blue bus is parked. Two men walk in front of", truncated=True) == "A blue bus is parked."
    assert clean_caption("Two men walk in front of", truncated=True) == ""


def test_a_looping_caption_is_cut_where_the_loop_starts():
    looping = (
        "A blue bus is parked on a street. The bus is surrounded by two men in coats. "
        "The bus is surrounded by a yellow building. The bus is surrounded by green trees. The bus is"
    )
    assert clean_caption(looping) == "A blue bus is parked on a street. The bus is surrounded by two men in coats."
    repeated = "A blue bus is parked. Two men walk. A blue bus is parked. Two men walk."
    assert clean_caption(repeated) == "A blue bus is parked. Two men walk."


def test_good_caption_passes():
    caption = (
        "A blue bus is parked on a street. Two men in coats walk in front of it. Behind the bus is an old "
        "yellow building with green shutters."
    )
    assert caption_problems(caption, [TRANSCRIPT], SETTINGS) == []


def test_garbage_is_rejected_with_the_reason():
    assert caption_problems("", [TRANSCRIPT], SETTINGS) == ["empty caption"]
    assert caption_problems("A blue bus.", [TRANSCRIPT], SETTINGS)[0].startswith("too short: 3 words")
    echo = "Rewrite it. Remove filler words like um and uh, false starts and repeated words from the bus photo."
    assert caption_problems(echo, [TRANSCRIPT], SETTINGS)[0].startswith("copies the instructions")
    invented = "A red sports car races through a desert canyon at sunset while eagles circle above the dunes."
    assert any(p.startswith("invents:") for p in caption_problems(invented, [TRANSCRIPT], SETTINGS))
    copy = TRANSCRIPT.replace(",", "").upper()
    assert caption_problems(copy, [TRANSCRIPT], SETTINGS) == [
        "copies the transcript word for word instead of rewriting it"
    ]
    thin = "This is a photo of a bus on a street and it is a photo."
    assert any(p.startswith("drops details:") for p in caption_problems(thin, [TRANSCRIPT], SETTINGS))


def test_content_words_ignore_fillers_and_stopwords_and_match_plurals():
    assert content_words("Um, the two men are walking") == ["two", "man", "walk"]
    assert set(content_words("buses")) == set(content_words("bus"))


def test_settings_are_checked():
    assert CaptionSettings().validate() == []
    assert len(CaptionSettings(max_new_tokens=4, min_words=0, max_novel=2.0).validate()) == 3
