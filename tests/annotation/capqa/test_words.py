"""Words, numbers and names, the raw material of the support checks."""

from annotation.capqa.words import content_words, names, normalised, numbers


def test_content_words_are_stemmed_and_skip_stopwords_and_numbers():
    assert content_words("The two men's buses are standing in 'cero emisiones'.") == [
        "man", "bus", "stand", "cero", "emision",
    ]  # fmt: skip


def test_numbers_from_digits_and_words():
    assert numbers("Four people and 12 cars, a pair of dogs") == {4, 12, 2}
    assert numbers("A man stands.") == set()


def test_names_are_capitalised_words_inside_a_sentence():
    assert names("The bus is from Madrid. Zidane smiles. I see Real Madrid!") == {"madrid", "real"}


def test_normalised():
    assert normalised("What colour is the Bus?!") == "what colour is the bus"
