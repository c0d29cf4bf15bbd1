"""Word error rate: Levenshtein over normalised words."""

import pytest

from annotation.cap.wer import edit_distance, normalise_words, word_error_rate


def test_identical_texts_differ_only_in_writing_conventions():
    assert word_error_rate("Two men, in grey coats - um, walking.", "2 men in gray coats um walking") == 0.0
    assert normalise_words("The bus's side-panel") == ["the", "buss", "side", "panel"]


def test_substitutions_deletions_and_insertions_count_once_each():
    assert edit_distance("a b c d".split(), "a x c".split()) == 2  # one substitution, one deletion
    assert word_error_rate("the red bus", "the red bus stops here") == pytest.approx(2 / 3)
    assert word_error_rate("blue and white city bus", "blue and white city vs") == pytest.approx(1 / 5)
    assert word_error_rate("one two", "") == 1.0


def test_empty_reference():
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "hello") == 1.0
