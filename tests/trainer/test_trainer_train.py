import json
import shutil

import pytest
from safetensors.torch import load_file

from trainer.progress import Progress
from trainer.train import LRSchedule, latest_checkpoint, main


@pytest.fixture()
def config_file(tmp_path, tiny_tokenizer_dir):
    path = tmp_path / "tiny.json"
    path.write_text(
        json.dumps(
            {
                "preset": "tiny",
                "model": {"tokenizer": str(tiny_tokenizer_dir)},
                "train": {"batch_size": 4, "num_workers": 0, "log_every": 1, "shuffle_buffer": 4, "threads": 1},
            }
        )
    )  # fixed: exact resume
    return path


def run(config_file, data, out, *extra):
    main(["--data", str(data), "--config", str(config_file), "--out", str(out), "--no-progress", *extra])


def test_lr_schedule():
    f = LRSchedule(warmup=10, total=110, min_ratio=0.1)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.55) and f(110) == pytest.approx(0.1) and f(500) == pytest.approx(0.1)


def test_train_writes_metrics_checkpoints_and_final(config_file, clock_shards, tmp_path):
    out = tmp_path / "run"
    run(config_file, clock_shards, out, "--steps", "6", "--save-every", "2", "--grad-accum", "2")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    for key in ("loss", "lr", "connector_lr", "tokens_per_s", "samples_per_s"):
        assert all(r[key] > 0 for r in rows), key
    assert rows[0]["connector_lr"] > rows[0]["lr"]  # the connector warms up faster, to a higher LR
    assert latest_checkpoint(out).name == "step_0000006"
    # Only the newest two are kept.
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_0000004", "step_0000006"]
    assert (out / "final" / "model.safetensors").exists()


def test_resume_is_exact(config_file, clock_shards, tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    run(config_file, clock_shards, straight, "--steps", "6", "--save-every", "3")
    shutil.copytree(straight / "checkpoints" / "step_0000003", resumed / "checkpoints" / "step_0000003")
    run(config_file, clock_shards, resumed, "--steps", "6", "--save-every", "3")
    a = load_file(straight / "final" / "model.safetensors")
    b = load_file(resumed / "final" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert (a[k] == b[k]).all(), k
    la = [json.loads(x)["loss"] for x in (straight / "metrics.jsonl").read_text().splitlines()]
    lb = [json.loads(x)["loss"] for x in (resumed / "metrics.jsonl").read_text().splitlines()]
    assert la[3:] == lb


def test_time_limit_stops_early_but_never_changes_a_step(config_file, clock_shards, tmp_path):
    timed, untimed = tmp_path / "timed", tmp_path / "untimed"
    run(config_file, clock_shards, timed, "--steps", "40", "--max-minutes", "0.0001", "--log-every", "2")
    keep_all = ("--save-every", "2", "--keep-checkpoints", "40")
    run(config_file, clock_shards, untimed, "--steps", "40", "--log-every", "2", *keep_all)
    rows = [json.loads(x) for x in (timed / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2]
    assert latest_checkpoint(timed).name == "step_0000002" and (timed / "final").exists()
    # The LR schedule follows --steps, not the clock: step 2 is the same step in both runs.
    same = json.loads((untimed / "metrics.jsonl").read_text().splitlines()[0])
    assert (rows[0]["lr"], rows[0]["loss"]) == (same["lr"], same["loss"])
    a = load_file(timed / "checkpoints" / "step_0000002" / "model" / "model.safetensors")
    b = load_file(untimed / "checkpoints" / "step_0000002" / "model" / "model.safetensors")
    assert all((a[k] == b[k]).all() for k in a)


def test_progress_writes_plain_lines_to_a_log_file(tmp_path):
    with open(tmp_path / "log.txt", "w") as log:
        progress = Progress(total=20, every_s=0.0, stream=log)
        for step in (5, 10, 20):
            progress.update(step, {"loss": 0.5, "lr": 1e-3, "samples_per_s": 12.0})
        progress.close()
    text = (tmp_path / "log.txt").read_text()
    assert "\r" not in text and text.count("\n") == 3
    assert text.splitlines()[-1].startswith("step 20/20 loss 0.5000 lr 1.00e-03 12.0 samples/s")


def test_ddp_two_processes(config_file, clock_shards, tmp_path):
    """torchrun with 2 CPU processes (gloo): ranks read disjoint data and stay in lockstep."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "ddp"
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(repo), OMP_NUM_THREADS="1")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29533",
        "-m",
        "trainer.train",
        "--data",
        str(clock_shards),
        "--config",
        str(config_file),
        "--out",
        str(out),
        "--steps",
        "3",
        "--log-every",
        "1",
        "--no-progress",
    ]
    subprocess.run(cmd, check=True, cwd=repo, env=env, timeout=300, capture_output=True)
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert rows[0]["samples_per_s"] > 0 and (out / "final" / "model.safetensors").exists()


def test_model_reads_the_image(tiny_tokenizer_dir, tmp_path):
    """Memorising 8 drawn clocks: the question templates are random, so only the image tells the time.
    The learned answers must get much worse when the images are blanked. (No length grouping: with 8 rows a
    group of 8 batches is 8 copies of them, sorted into batches of near-duplicates.)"""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from clock_fixture import write_clock_shards

    from trainer.data import build_sources
    from trainer.evaluate import evaluate
    from trainer.model import VLM

    shards = write_clock_shards(tmp_path / "s", {"train": 8}, shards=1, rows_per_group=8)
    cfg = tmp_path / "c.json"
    cfg.write_text(
        json.dumps(
            {
                "preset": "tiny",
                "model": {"tokenizer": str(tiny_tokenizer_dir)},
                "train": {"batch_size": 8, "num_workers": 0, "log_every": 10, "shuffle_buffer": 1, "length_group": 1},
            }
        )
    )
    run(
        cfg,
        shards,
        tmp_path / "r",
        "--steps",
        "100",
        "--lr",
        "6e-3",
        "--connector-lr",
        "6e-3",
        "--warmup",
        "10",
        "--save-every",
        "1000",
    )
    losses = [json.loads(x)["loss"] for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert losses[-1] < 0.2 * losses[0]
    model = VLM.from_pretrained(tmp_path / "r" / "final")
    metrics, _ = evaluate(model, build_sources([str(shards)], "train"), batch_size=8, generate=False)
    real, blank = metrics["clocks"]["loss"], metrics["clocks"]["loss_blank_images"]
    assert real < 0.7 * blank, (real, blank)


def test_vision_lr_is_its_own_group(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    from trainer.config import TrainConfig, preset
    from trainer.model import VLM
    from trainer.tokenizer import add_layout_tokens
    from trainer.train import make_optimizer

    model = VLM(preset("tiny"), add_layout_tokens(AutoTokenizer.from_pretrained(tiny_tokenizer_dir)))
    lrs = lambda opt: {g["part"]: g["lr"] for g in opt.param_groups}  # noqa: E731
    opt, _ = make_optimizer(model, TrainConfig(lr=1e-3, connector_lr=2e-3, warmup=1, connector_warmup=1))
    assert lrs(opt) == {"connector": 2e-3, "vision": 1e-3, "decoder": 1e-3}
    opt, _ = make_optimizer(
        model, TrainConfig(lr=1e-3, connector_lr=2e-3, vision_lr=3e-3, warmup=1, connector_warmup=1)
    )
    assert lrs(opt) == {"connector": 2e-3, "vision": 3e-3, "decoder": 1e-3}
