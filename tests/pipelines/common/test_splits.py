import pytest

from pipelines.common.splits import SplitSpec


def test_fractions_give_exact_counts_that_add_up():
    spec = SplitSpec.parse("train=0.98,validation=0.01,test=0.01")
    counts = spec.counts(1000)
    assert counts == {"train": 980, "validation": 10, "test": 10}
    assert sum(SplitSpec.parse("train=0.9,validation=0.05,test=0.05").counts(333).values()) == 333


def test_exact_counts_decide_the_total():
    spec = SplitSpec.parse("train=100,validation=7")
    assert spec.exact
    assert spec.total(None) == 107
    assert spec.ranges(None) == {"train": (0, 100), "validation": (100, 107)}


@pytest.mark.parametrize(
    "text, message",
    [
        ("train=0.5,validation=0.2", "add up to 1"),
        ("train", "NAME=VALUE"),
        ("train=abc", "not a number"),
        ("train=0.5,train=0.5", "twice"),
        ("train=-1,validation=2", "negative"),
    ],
)
def test_bad_splits_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        SplitSpec.parse(text)


def test_split_for_key_is_stable_and_roughly_proportional():
    spec = SplitSpec.parse("train=0.8,validation=0.2")
    picks = [spec.split_for_key(f"img-{i}") for i in range(2000)]
    assert picks == [spec.split_for_key(f"img-{i}") for i in range(2000)]
    assert 0.75 < picks.count("train") / 2000 < 0.85
