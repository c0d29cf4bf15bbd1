import json

import numpy as np
import pytest

from trainer.config import preset
from trainer.data import build_sources
from trainer.evaluate import (
    anls,
    clock_scores,
    count_scores,
    evaluate,
    parse_clock,
    parse_count,
    parse_points,
    pointing_scores,
    points_in_boxes,
    qa_scores,
)
from trainer.model import VLM


def test_parse_clock_and_scores():
    assert parse_clock("The time shown is 3:02 PM") == (3, 2, "PM")
    assert parse_clock("It is 12:59 a.m.") == (12, 59, "AM")
    assert parse_clock("no idea") == (None, None, None)
    s = clock_scores("The time shown is 3:02 PM", {"hour": 15, "minute": 2})
    assert s["hour_correct"] == s["hour_24_correct"] == s["minute_correct"] == s["all_close"] == 1.0
    s = clock_scores("The time shown is 3:58 AM", {"hour": 15, "minute": 1})
    assert s["hour_correct"] == 1.0 and s["hour_24_correct"] == 0.0 and s["minute_close"] == 1.0  # wraps
    s = clock_scores("The time shown is 12:10 AM", {"hour": 0, "minute": 20})
    assert s["hour_24_correct"] == 1.0 and s["minute_close"] == 0.0
    assert clock_scores("hmm", {"hour": 1, "minute": 1})["parsed"] == 0.0


def test_parse_count():
    assert (
        parse_count('Counting the <points x1="1.0" y1="2.0" x2="3.0" y2="4.0" alt="a">a</points> shows a total of 2.')
        == 2
    )
    assert parse_count("There are none.") == 0
    assert parse_count("I see seven dogs") == 7
    assert parse_count("3 cats and 4 dogs") == 4
    assert parse_count("no numbers") is None
    assert count_scores("a total of 4.", {"count": 3}) == {"count_correct": 0.0, "count_close": 1.0}


def test_points_and_anls():
    text = '<points x1="10.0" y1="20.0" x2="30.5" y2="40.0" alt="a">a</points> and <point x="1" y="2" alt="b">b</point>'
    assert parse_points(text) == [(10.0, 20.0), (30.5, 40.0), (1.0, 2.0)]
    s = pointing_scores('<point x="10.0" y="21.0" alt="a">a</point>', {"points": [(10.0, 20.0), (80.0, 80.0)]})
    assert s["point_precision"] == 1.0 and s["point_recall"] == 0.5
    assert anls("Paris", "paris") == 1.0 and anls("Pari", "Paris") == pytest.approx(0.8)
    assert anls("xyz", "Paris") == 0.0


def test_evaluate_tiny_model(clock_shards, tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    from trainer.tokenizer import add_layout_tokens

    tok = add_layout_tokens(AutoTokenizer.from_pretrained(tiny_tokenizer_dir))
    model = VLM(preset("tiny"), tok)
    sources = build_sources([str(clock_shards)], "validation")
    metrics, samples = evaluate(model, sources, batch_size=3, max_examples=5)
    m = metrics["clocks"]
    # Exactly the 5 rows reported, not the rest of the last batch of 3.
    assert m["n"] == 5 == m["n_scored"] and m["loss"] > 0 and m["loss_blank_images"] > 0
    assert m["loss_shuffled_images"] > 0 and m["truncated"] == 0
    assert 0 < m["label_prior_loss"] < np.log(12 * 60 * 2) / 4  # the 1440 answers spread over the answer tokens
    assert 0.0 <= m["hour_correct"] <= 1.0
    assert len(samples["clocks"]) == 5 and samples["clocks"][0]["target"].startswith("The time shown is")
    assert [r["target"] for r in samples["clocks"]] == [
        r["target"] for r in evaluate(model, sources, batch_size=2, max_examples=5)[1]["clocks"]
    ]
    json.dumps(metrics)


def test_points_in_boxes_and_short_answers():
    row = {"boxes": [{"x0": 0, "y0": 0, "x1": 50, "y1": 50}, {"x0": 60, "y0": 60, "x1": 100, "y1": 100}]}
    row.update(width=100, height=100)
    two_in_one = '<points x1="10" y1="10" x2="20" y2="20" alt="a">a</points>'  # both in the first box
    assert points_in_boxes(two_in_one, row) == {"box_precision": 0.5, "box_recall": 0.5}
    assert points_in_boxes('<point x="70" y="80" alt="a">a</point>', row)["box_recall"] == 0.5
    assert points_in_boxes(two_in_one, {"boxes": []}) == {}  # no boxes: not judged this way
    assert qa_scores("12", {"answer": "12"}) == {"exact_match": 1.0, "anls": 1.0}
    assert qa_scores("x", {"answer": "a long answer of many more than five words"}) == {}


def test_train_samples_per_s_skips_the_first_interval():
    from trainer.verify import train_samples_per_s

    rows = [{"samples_per_s": r} for r in (1.0, 10.0, 30.0, 20.0)]
    assert train_samples_per_s(rows) == 20.0
    assert train_samples_per_s(rows[:1]) == 1.0 and train_samples_per_s([]) == 0.0


def test_verify_writes_a_report(clock_shards, tiny_tokenizer_dir, tmp_path):
    from trainer.verify import verify

    cfg = tmp_path / "tiny.json"
    cfg.write_text(
        json.dumps(
            {"preset": "tiny", "model": {"tokenizer": str(tiny_tokenizer_dir)}, "train": {"num_workers": 0, "steps": 6}}
        )
    )
    report, metrics = verify(
        [str(clock_shards)],
        minutes=0.2,
        config=str(cfg),
        out=str(tmp_path / "v"),
        eval_examples=4,
        batch_size=4,
        num_workers=0,
        min_eval_rows=4,
    )
    text = report.read_text()
    assert "hour_correct" in text and "blanked images" in text and "shuffled images" in text and "Overall:" in text
    assert "trained 6 of 6 steps" in text and "1 training thread" in text
    assert "loader samples/s" in text  # the loader-keeps-up check has a row
    assert (tmp_path / "v" / "loss.png").exists() and (tmp_path / "v" / "ablation.png").exists()
