import numpy as np
import pytest

from trainer.image_labels import IMAGE_LABELS, ImageLabel, image_label_matrix, label_classes, training_aids


def _meta(subset: str, **values) -> dict:
    return {"subset": subset, "metadata": [values]}


def test_clock_hours_count_modulo_twelve_and_other_subsets_have_none():
    assert [(lab.subset, lab.name) for lab in IMAGE_LABELS] == [("clocks", "hour"), ("clocks", "minute")]
    assert label_classes() == [12, 60]
    metas = [
        _meta("clocks", hour=0, minute=5),
        _meta("clocks", hour=13, minute=0),
        _meta("cap"),
        _meta("clocks", hour=23, minute=59),
    ]
    np.testing.assert_array_equal(image_label_matrix(metas), [[0, 5], [1, 0], [-1, -1], [11, 59]])
    assert image_label_matrix([]).shape == (0, 2)


def test_a_label_outside_its_classes_is_an_error(monkeypatch):
    import trainer.image_labels as mod

    monkeypatch.setattr(mod, "IMAGE_LABELS", (ImageLabel("clocks", "hour", 12, lambda m: int(m["hour"])),))
    with pytest.raises(ValueError, match="outside 0..11"):
        image_label_matrix([_meta("clocks", hour=13)])


def test_training_aids_name_the_losses_and_only_the_labels_trained_on():
    assert training_aids(4.0, "sequence", 4.0, ["clocks", "cap"]) == (
        "answer tokens from the image alone (sequence, weight 4); image labels clocks.hour, clocks.minute (weight 4)"
    )
    assert training_aids(0.0, "bag", 4.0, ["cap"]) == "none"
    assert training_aids(1.0, "bag", 0.0, ["clocks"]) == "answer tokens from the image alone (bag, weight 1)"
