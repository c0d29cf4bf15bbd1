"""verify on a mix of all seven subsets: every subset gets a verdict or a plain reason, never a traceback."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from scripted_llm import scripted_server  # noqa: E402
from seven_subsets import make_seven_subsets  # noqa: E402

from formatting.subsets import SUBSETS  # noqa: E402
from media.samples import bundled_images_dir  # noqa: E402
from trainer.verify import plan_subsets, verify  # noqa: E402

pytestmark = pytest.mark.skipif(bundled_images_dir() is None, reason="ultralytics (the sample photos) is not installed")


@pytest.fixture(scope="module")
def seven(tmp_path_factory) -> Path:
    with scripted_server() as url:
        return make_seven_subsets(tmp_path_factory.mktemp("seven"), url)


def subsets_table(report: str) -> dict[str, list[str]]:
    lines = report.split("## Subsets", 1)[1].split("## Checks", 1)[0].strip().splitlines()[2:]
    return {cells[0]: cells for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines)}


def test_every_subset_gets_a_verdict_or_a_reason(seven, tmp_path):
    out = tmp_path / "verify"
    report, metrics = verify(
        [str(seven)], 5.0, "small", str(out), eval_examples=8, batch_size=4, num_workers=0, steps=4, min_eval_rows=2
    )
    text = report.read_text()
    table = subsets_table(text)
    # small's image-only losses, the label one on the Clocks rows of mixed batches.
    assert "sequence, weight 4); image labels clocks.hour, clocks.minute (weight 8)" in text
    assert set(table) == set(SUBSETS)  # all seven, each with a verdict or the reason it has none
    for cells in table.values():
        assert cells[-1] in ("PASS", "FAIL") or cells[-1].startswith("not judged: "), cells
    assert table["count"][-1] == "not judged: 1 held-out rows, need 2"
    for subset in ("cap", "capqa", "points", "ama"):  # small runs put every row in train
        assert table[subset][-1] == "not judged: 0 held-out rows (no validation or test split), need 2"
    # Judged subsets: their scorer, and both image ablations, on exactly the rows reported.
    assert table["clocks"][-1] in ("PASS", "FAIL") and table["docs"][-1] in ("PASS", "FAIL")
    assert metrics["clocks"]["n"] == 8 == metrics["clocks"]["n_scored"] and "hour_correct" in metrics["clocks"]
    assert metrics["docs"]["n"] == 2 and "exact_match" in metrics["docs"] and "anls" in metrics["docs"]
    for m in metrics.values():
        assert {"loss", "loss_blank_images", "loss_shuffled_images", "truncated"} <= set(m)
    summary = json.loads((out / "metrics.json").read_text())
    assert sum(m["share"] for m in summary["info"]["mixture"]) == pytest.approx(1.0)
    assert (out / "loss.png").exists() and (out / "ablation.png").exists() and (out / "headline.png").exists()


def test_plan_names_the_reason_before_training(seven):
    train, held, plans = plan_subsets([str(seven / "clocks"), str(seven / "cap")], min_rows=50)
    assert [s.subset for s in train] == ["cap", "clocks"] and set(held) == {"clocks"}
    reasons = {p.subset: p.reason for p in plans}
    assert reasons == {"cap": "not judged: 0 held-out rows (no validation or test split), need 50", "clocks": None}
