"""Train the VLM on PixMo shards.

    python -m trainer.train --data OUTPUT/clocks --config small --out runs/clocks --steps 500
    torchrun --nproc_per_node 8 -m trainer.train --data OUTPUT=1.0 --config my.json --out runs/all

AdamW with cosine decay after warmup (the connector gets a higher LR and a shorter warmup), gradient
accumulation and clipping, bf16 autocast on GPU (fp32 on CPU), DDP under torchrun, checkpoints that resume
exactly (model, optimizer, scheduler, RNG and data position), metrics to `OUT/metrics.jsonl`.
"""

import argparse
import contextlib
import dataclasses
import json
import math
import os
import random
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from trainer.config import ModelConfig, TrainConfig, load_config
from trainer.data import ShardDataset, build_sources, make_loader, mixture
from trainer.model import VLM, build_model
from trainer.preprocess import ExampleBuilder
from trainer.progress import Progress
from trainer.tokenizer import load_tokenizer

STATE = "trainer_state.pt"

# Dense bf16 peak FLOP/s, for MFU.
PEAK_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12, "4090": 165e12}


class LRSchedule:
    """Linear warmup to 1, then cosine down to `min_ratio` at `total` steps. A pure function of the step:
    a time limit may end the run early but never changes what a step does."""

    def __init__(self, warmup: int, total: int, min_ratio: float):
        self.warmup, self.total, self.min_ratio = warmup, total, min_ratio

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        progress = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))
        return self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(model: VLM, cfg: TrainConfig) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    groups = []
    for part, params in model.param_groups().items():
        lr, warmup = (cfg.connector_lr, cfg.connector_warmup) if part == "connector" else (cfg.lr, cfg.warmup)
        if part == "vision" and cfg.vision_lr is not None:
            lr = cfg.vision_lr
        # No weight decay on biases, norms and the pad embeddings.
        decay = [p for p in params if p.requires_grad and p.ndim >= 2]
        no_decay = [p for p in params if p.requires_grad and p.ndim < 2]
        for ps, wd in ((decay, cfg.weight_decay), (no_decay, 0.0)):
            if ps:
                groups.append({"params": ps, "lr": lr, "weight_decay": wd, "warmup": warmup, "part": part})
    opt = torch.optim.AdamW(groups, betas=(0.9, 0.95), eps=cfg.adam_eps)
    lambdas = [LRSchedule(g["warmup"], cfg.steps, cfg.min_lr_ratio) for g in groups]
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambdas)


def init_distributed() -> tuple[int, int, int]:
    """(rank, world_size, local_rank); starts the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


def pick_device(spec: str, local_rank: int) -> torch.device:
    if spec != "auto":
        return torch.device(spec)
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def latest_checkpoint(out: Path) -> Path | None:
    ckpts = sorted((out / "checkpoints").glob("step_*"), key=lambda p: int(p.name.split("_")[1]))
    ckpts = [c for c in ckpts if (c / STATE).exists()]
    return ckpts[-1] if ckpts else None


def save_checkpoint(
    out: Path, model: VLM, opt, sched, step: int, batches: int, cfg: TrainConfig, world: int = 1
) -> Path:
    """Write to a temp dir, then rename, so a crash never leaves a half checkpoint as the latest."""
    final = out / "checkpoints" / f"step_{step:07d}"
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp / "model")
    torch.save(
        {
            "step": step,
            "batches": batches,
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "rng": rng_state(),
            "train_config": dataclasses.asdict(cfg),
            "world_size": world,
        },
        tmp / STATE,
    )
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    done = sorted((p for p in final.parent.glob("step_*") if (p / STATE).exists()), key=lambda p: p.name)
    for old in done[: max(0, len(done) - cfg.keep_checkpoints)]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def budget_clock(device: torch.device) -> float:
    """Seconds on the clock `max_minutes` counts: on CPU the training process's own CPU time (on a shared
    machine the neighbours set the wall-clock, not what the run computes, so the same command stops at the same
    step however busy the machine is); on GPU the wall-clock."""
    return time.process_time() if device.type == "cpu" else time.time()


def _out_of_time(cfg: TrainConfig, t_start: float, device: torch.device, world: int) -> bool:
    """Has the time budget run out? Agreed by all ranks, so they stop at the same step."""
    over = cfg.max_minutes is not None and budget_clock(device) - t_start >= cfg.max_minutes * 60
    if world > 1:
        flag = torch.tensor([float(over)], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        over = bool(flag.item())
    return over


def _trim_metrics(path: Path, step: int) -> None:
    """Drop logged rows past the step we (re)start from, so a fresh or resumed run does not double-log."""
    if path.exists():
        rows = [x for x in path.read_text().splitlines() if x and json.loads(x)["step"] <= step]
        path.write_text("".join(r + "\n" for r in rows))


class FlopCounter:
    """Training FLOPs of a batch, 6 per parameter use (forward + backward), from host-side shapes: the ViT
    runs on every patch of every crop, the connector on pooled tokens, the LM on every token, and the LM
    head only on answer tokens. Attention's quadratic term is left out (short sequences here)."""

    def __init__(self, model: VLM):
        count = lambda ps: sum(p.numel() for p in ps)  # noqa: E731
        self.vision = count(model.vision.parameters())
        self.connector = count(model.connector.parameters())
        head = model.decoder.get_output_embeddings().weight
        embed = model.decoder.get_input_embeddings().weight
        self.head = head.numel()
        self.lm = count(model.decoder.parameters()) - embed.numel() - (0 if head is embed else head.numel())
        img = model.cfg.image
        self.patches, self.pooled = img.crop_patches**2, img.tokens_per_side**2

    def __call__(self, batch: dict) -> float:
        crops = batch["crops"].shape[0]
        return 6.0 * (
            self.vision * crops * self.patches
            + self.connector * crops * self.pooled
            + self.lm * int(batch["attention_mask"].sum())
            + self.head * batch["loss_pos"].numel()
        )


def peak_flops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_FLOPS.items() if k in name), None)


def train(model_cfg: ModelConfig, cfg: TrainConfig, resume: str | None = "auto", progress: bool = True) -> list[dict]:
    """Run training; returns the logged metrics. `resume`: "auto" (latest checkpoint in cfg.out, if any),
    a checkpoint dir, or None (start fresh)."""
    rank, world, local_rank = init_distributed()
    device = pick_device(cfg.device, local_rank)
    if device.type == "cpu":
        # A fixed count, never the machine's load: thread count changes the float sums, and so the curve.
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    ckpt = latest_checkpoint(out) if resume == "auto" else (Path(resume) if resume else None)
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    if ckpt is not None:
        model = VLM.from_pretrained(ckpt / "model")
        model_cfg = model.cfg
    else:
        model = build_model(model_cfg, load_tokenizer(model_cfg.tokenizer))
    model.to(device)
    opt, sched = make_optimizer(model, cfg)
    step, batches = 0, 0
    if ckpt is not None:
        state = torch.load(ckpt / STATE, map_location="cpu", weights_only=False)
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        step, batches = state["step"], state["batches"]
        saved = state["train_config"]
        if (saved["num_workers"], saved["batch_size"], saved.get("length_group", 1), state.get("world_size", 1)) != (
            cfg.num_workers,
            cfg.batch_size,
            cfg.length_group,
            world,
        ):
            # The data position is counted in batches per reader: other readers or batch sizes replay a
            # different stream. Training goes on, but not as an exact continuation.
            print(
                "warning: num_workers, batch_size, length_group or world size changed since the checkpoint; "
                "the data order will not continue exactly"
            )

    builder = ExampleBuilder(model.tokenizer, model_cfg.image, model_cfg.max_seq_len)
    sources = build_sources(cfg.data, "train")
    dataset = ShardDataset(
        sources,
        builder,
        cfg.batch_size,
        seed=cfg.seed,
        rank=rank,
        world_size=world,
        buffer=cfg.shuffle_buffer,
        length_group=cfg.length_group,
    )
    dataset.start_batch = batches
    batch_iter = iter(make_loader(dataset, cfg.num_workers, pin_memory=device.type == "cuda"))

    core = model
    if world > 1:
        model = DistributedDataParallel(
            model,
            device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=core.has_unused_params(),
        )
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()
    n_params = sum(p.numel() for p in core.parameters())
    peak = peak_flops(device)
    flops_per_batch = FlopCounter(core)

    if rank == 0:
        _trim_metrics(out / "metrics.jsonl", step)
        (out / "run_config.json").write_text(
            json.dumps({"model": model_cfg.to_dict(), "train": dataclasses.asdict(cfg), "params": n_params}, indent=2)
        )
        threads = f" ({torch.get_num_threads()} threads)" if device.type == "cpu" else ""
        print(f"params {n_params / 1e6:.1f}M on {device}{threads}; world {world}; starting at step {step}")
        for m in mixture(sources, cfg.steps * cfg.grad_accum * cfg.batch_size * world):
            print(f"  {m['subset']}: {m['rows']} rows, {m['share']:.1%} of draws, {m['epochs']:.1f} epochs")
    bar = Progress(cfg.steps, initial=step) if progress and rank == 0 else None

    metrics: list[dict] = []
    loss_sum = torch.zeros((), device=device)  # summed on device; read back only at log steps
    aux_sum = torch.zeros((), device=device)
    label_sum = torch.zeros((), device=device)
    n_logged, tokens, samples, truncated, flops = 0, 0, 0, 0, 0.0
    t_log = t_start = time.time()
    budget_start = budget_clock(device)
    model.train()
    while step < cfg.steps:
        for micro in range(cfg.grad_accum):
            batch = next(batch_iter)
            tokens += int(batch["attention_mask"].sum())  # host-side counts: no device sync
            samples += batch["input_ids"].shape[0]
            truncated += int(batch["truncated"])
            flops += flops_per_batch(batch)
            batch = to_device(batch, device)
            sync = world == 1 or micro == cfg.grad_accum - 1
            with contextlib.nullcontext() if sync else model.no_sync(), autocast:
                result = model(batch)
                (result["loss"] / cfg.grad_accum).backward()
            loss_sum += result["lm_loss"].detach()
            if "aux_loss" in result:
                aux_sum += result["aux_loss"].detach()
            if "label_loss" in result:
                label_sum += result["label_loss"].detach()
            n_logged += 1
            batches += 1
        grad_norm = torch.nn.utils.clip_grad_norm_(core.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1

        # Host-device syncs (reading the loss, agreeing on a stop) happen only at log steps.
        stop = False
        if step % cfg.log_every == 0 or step == cfg.steps:
            if world > 1:
                dist.all_reduce(loss_sum)
                loss_sum /= world
            loss_value = loss_sum.item() / n_logged  # waits for the device, so the timing below is real
            now = time.time()
            dt = max(now - t_log, 1e-9)
            row = {
                "step": step,
                "loss": loss_value,
                "grad_norm": float(grad_norm),
                "lr": sched.get_last_lr()[-1],
                "connector_lr": sched.get_last_lr()[0],
                "tokens_per_s": tokens * world / dt,
                "samples_per_s": samples * world / dt,
                # Sequences cut at max_seq_len in this interval (this rank's): their answers lost their ends.
                "truncated": truncated,
                "elapsed_s": now - t_start,
                "budget_s": budget_clock(device) - budget_start,  # what max_minutes counts (CPU time on CPU)
            }
            if core.cfg.image_aux_weight > 0:
                row["aux_loss"] = aux_sum.item() / n_logged
            if core.cfg.label_aux_weight > 0:
                row["label_loss"] = label_sum.item() / n_logged
            if peak:
                row["mfu"] = flops / dt / peak
            metrics.append(row)
            if rank == 0:
                with open(out / "metrics.jsonl", "a") as f:
                    f.write(json.dumps(row) + "\n")
                if bar is not None:
                    bar.update(step, row)
            loss_sum.zero_()
            aux_sum.zero_()
            label_sum.zero_()
            n_logged, tokens, samples, truncated, flops, t_log = 0, 0, 0, 0, 0.0, time.time()
            stop = step < cfg.steps and _out_of_time(cfg, budget_start, device, world)
            if stop and rank == 0:
                print(f"time limit ({cfg.max_minutes:g} min) reached at step {step} of {cfg.steps}")
        if rank == 0 and (step % cfg.save_every == 0 or step == cfg.steps or stop):
            save_checkpoint(out, core, opt, sched, step, batches, cfg, world)
        if stop:
            break
    if bar is not None:
        bar.close()
    if rank == 0:
        core.save_pretrained(out / "final")
        if metrics:
            last = metrics[-1]
            mfu = f", MFU {last['mfu']:.1%}" if "mfu" in last else ""
            print(
                f"done: step {step}, loss {last['loss']:.4f}, {last['tokens_per_s']:.0f} tokens/s, "
                f"{last['samples_per_s']:.1f} samples/s{mfu}; model in {out / 'final'}"
            )
    if world > 1:
        dist.barrier()
    return metrics


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True, help="shard folders or globs, optionally =RATE")
    p.add_argument("--config", default="small", help="preset (tiny, small, smollm2, molmo-like) or JSON file")
    p.add_argument("--resume", default="auto", help="'auto', a checkpoint dir, or 'none'")
    p.add_argument("--no-progress", action="store_true")
    for f in dataclasses.fields(TrainConfig):
        if f.name in ("data",):
            continue
        kind = {int: int, float: float, str: str}.get(type(f.default), float if "float" in str(f.type) else str)
        p.add_argument("--" + f.name.replace("_", "-"), type=kind, default=None)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    model_cfg, train_over = load_config(args.config)
    over = dict(train_over)
    for f in dataclasses.fields(TrainConfig):
        value = getattr(args, f.name, None)
        if value is not None:
            over[f.name] = value
    over["data"] = args.data
    cfg = TrainConfig(**over)
    train(model_cfg, cfg, resume=None if args.resume == "none" else args.resume, progress=not args.no_progress)
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
