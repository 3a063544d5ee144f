"""The training loop: one readable function over in-memory batches; resumable; DDP-ready.

The recipe pieces (schedule, balancing, augmentation) live in recipe.py and the resume point in
checkpoint.py, so this file reads as the loop the study describes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from dvclive import Live
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from expressions.config import Run, TrainSpec, VariantConfig
from expressions.core.errors import TrainingError
from expressions.data.dataset import Merged
from expressions.training import batches, device, distributed, model, recipe
from expressions.training.batches import AUGMENT, DROPOUT, MIX, derived_seed
from expressions.training.checkpoint import cpu_copy, load_checkpoint, save_checkpoint
from expressions.training.distill import SoftTargets, soft_loss_sum
from expressions.training.distributed import Runtime
from expressions.training.epoch_log import EPOCH_LINE, PLOTTED, SUMMARY
from expressions.training.mixing import Mixing, mix
from expressions.training.recipe import Augment, early_stopped, kept_index, lr_at


@dataclass
class Trained:
    model: nn.Module  # the plain module (not DDP), holding the kept epoch's weights
    history: list[dict[str, float]]  # one record per epoch run, resumed epochs included
    kept_epoch: int  # 1-based: the best epoch with early stopping, else the last
    images_per_s: float  # training throughput, all ranks together, validation excluded


@dataclass
class Setup:
    """Everything one optimizer step needs, built once per run."""

    spec: TrainSpec
    seed: int  # the run's: each epoch's order, augmentation and dropout derive from it
    rt: Runtime
    net: nn.Module  # the model itself: evaluated, checkpointed, returned
    stepped: nn.Module  # what the step runs: net, or under torchrun a DDP wrapper around it
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    criterion: nn.CrossEntropyLoss  # summed, so batches can be split across ranks
    sample_weight: np.ndarray  # each training image's class weight (ones without weighting)
    amp: torch.dtype | None
    ema: AveragedModel | None = None  # the weights' moving average, evaluated and kept
    soft: SoftTargets | None = None  # a student's: the loss follows the teacher's probabilities

    @property
    def kept(self) -> nn.Module:
        """The network validation scores and the run keeps: the average when there is one."""
        return self.ema.module if self.ema is not None else self.net


def build_setup(
    run: Run,
    x_train: np.ndarray,
    y_train: np.ndarray,
    rt: Runtime,
    state: dict | None,
    init: dict | None = None,
) -> Setup:
    """`init`: starting weights (a student's: its teacher's) instead of ImageNet's or random."""
    variant, spec = run.variant, run.variant.train
    torch.manual_seed(run.seed)
    net = model.build_model(
        variant.model,
        len(variant.classes),
        variant.image_size,
        pretrained=state is None and init is None,
    )
    if isinstance(net, model.ExpressionNet):  # a pretrained backbone keeps ImageNet's stats
        net.set_pixel_stats(*batches.pixel_stats(x_train))
    if state is not None or init is not None:
        net.load_state_dict(state["model"] if state is not None else init)
    memory_format = torch.channels_last if spec.channels_last else torch.preserve_format
    net = net.to(rt.device, memory_format=memory_format)
    stepped = distributed.wrap(net, rt)  # before the optimizer: it may swap BatchNorm layers
    optimizer = recipe.make_optimizer(net, spec)
    amp = device.amp_dtype(spec.amp, rt.device, verbose=rt.main)
    scaler = torch.amp.GradScaler(rt.device.type, enabled=amp == torch.float16)
    weighted, n = spec.balance == "weighted_loss", len(variant.classes)
    class_weight = recipe.class_weights(y_train, n) if weighted else np.ones(n)
    class_weight = torch.tensor(class_weight, dtype=torch.float32)
    criterion = nn.CrossEntropyLoss(
        weight=class_weight.to(rt.device) if weighted else None,
        label_smoothing=spec.label_smoothing,
        reduction="sum",
    )
    ema = None
    if spec.ema:
        ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(spec.ema), use_buffers=True)
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        if ema is not None and state.get("ema") is not None:
            ema.load_state_dict(state["ema"])
    sample_weight = class_weight.double().numpy()[y_train]
    return Setup(
        spec, run.seed, rt, net, stepped, optimizer, scaler, criterion, sample_weight, amp, ema
    )


def validate(s: Setup, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Plain cross-entropy (no class weights, no smoothing: comparable across recipes), accuracy.

    Every rank scores the whole validation set, so all ranks take the same early-stopping
    decision without communicating, and the numbers equal a single-process run's.
    """
    logits = batches.forward_all(s.kept, x, s.spec.batch_size, s.rt.device, s.amp)
    accuracy = (logits.argmax(1) == y).double().mean().item()
    return F.cross_entropy(logits, y).item(), accuracy


def batch_loss(s: Setup, out: torch.Tensor, yb: torch.Tensor, rows: np.ndarray) -> torch.Tensor:
    """The summed loss of a batch: cross-entropy with the labels, or a student's soft loss
    against the teacher's probabilities of the same training rows."""
    if s.soft is None:
        return s.criterion(out, yb)
    p = torch.from_numpy(s.soft.p[rows]).to(out.device)
    return soft_loss_sum(out.float(), yb, p, s.soft.temperature, s.soft.weight)


def train_epoch(s: Setup, x: torch.Tensor, y: torch.Tensor, epoch: int) -> dict[str, float]:
    """One pass over the epoch's global batches; this rank trains on its shard of each.

    Each rank's loss is its summed loss over the global batch's denominator (the sum of the
    samples' class weights, which CrossEntropyLoss's "mean" divides by) times the world size:
    DDP's gradient average then equals one process's gradient of the global batch mean.
    """
    spec, rt, seed = s.spec, s.rt, s.seed
    torch.manual_seed(derived_seed(seed, epoch, DROPOUT, rt.rank))
    augment, mixing = Augment.from_spec(spec), Mixing.from_spec(spec)
    generator = torch.Generator().manual_seed(derived_seed(seed, epoch, AUGMENT))
    blends = np.random.default_rng(derived_seed(seed, epoch, MIX))
    order = batches.epoch_order(y.numpy(), seed, epoch, spec.balance)
    steps = batches.global_batches(order, spec.batch_size)
    shards = [b[rt.shard(len(b))] for b in steps]
    stream = batches.batch_stream(x, y, shards, rt.workers, pin=rt.device.type == "cuda")
    bar = tqdm(
        zip(steps, stream, strict=True),
        total=len(steps),
        desc=f"Epoch {epoch + 1}/{spec.epochs}",
        unit="batch",
        mininterval=1.0,
        leave=False,
        disable=not rt.main,
    )
    s.stepped.train()
    total = torch.zeros((), dtype=torch.float64, device=rt.device)
    start = time.perf_counter()
    for step, (batch, (xb, yb)) in enumerate(bar, start=epoch * len(steps)):
        rows = batch[rt.shard(len(batch))]
        xb = batches.as_input(batches.to_device(xb, rt.device))
        yb = batches.to_device(yb, rt.device)
        if augment is not None:
            theta = recipe.random_affine(len(batch), augment, generator)
            xb = recipe.augment_batch(xb, theta[rt.shard(len(batch))])
        for group in s.optimizer.param_groups:
            group["lr"] = lr_at(step, len(steps), spec) * group["lr_scale"]
        with device.autocast(rt.device, s.amp):
            if mixing is None or len(xb) == 0:
                loss_sum = batch_loss(s, s.stepped(xb), yb, rows)
            else:
                m = mix(xb, yb, mixing, blends)
                out = s.stepped(m.x)
                loss_sum = m.lam * s.criterion(out, m.y) + (1 - m.lam) * s.criterion(out, m.y_other)
        s.optimizer.zero_grad(set_to_none=True)
        s.scaler.scale(loss_sum * (rt.world / s.sample_weight[batch].sum())).backward()
        s.scaler.step(s.optimizer)
        s.scaler.update()
        if s.ema is not None:
            s.ema.update_parameters(s.net)
        total += loss_sum.detach()
    train_loss = distributed.all_sum(total.item(), rt) / float(s.sample_weight[order].sum())
    return {
        "train_loss": train_loss,
        "lr": lr_at(epoch * len(steps), len(steps), spec),
        "images": float(len(order)),
        "seconds": time.perf_counter() - start,
    }


def training_summary(trained: Trained) -> dict:
    """What the report shows of a run besides its metrics: which epoch was kept, of how many."""
    return {"kept_epoch": trained.kept_epoch, "epochs_run": len(trained.history)}


def training_speed(trained: Trained) -> dict:
    """How fast it ran: a timing (paths.timing), never in a file DVC hashes."""
    return {
        "train_images_per_s": round(trained.images_per_s, 1),
        "seconds": round(sum(h["seconds"] for h in trained.history), 1),
    }


def log_epoch(live: Live | None, record: dict[str, float]) -> None:
    if live is None:
        return
    for name in PLOTTED:
        live.log_metric(name, record[name])
    live.next_step()


def check_data(variant: VariantConfig, merged: Merged) -> None:
    if merged.classes != variant.classes:
        raise TrainingError(
            f"the dataset's classes {list(merged.classes)} differ from the config's "
            f"{list(variant.classes)}; re-run the merge and resolve stages"
        )
    if not (merged.split == 0).any() or not (merged.split == 1).any():
        raise TrainingError("the train or validation split is empty; check split.val")


def train(
    run: Run,
    merged: Merged,
    *,
    fingerprint: str = "",
    checkpoint: Path | None = None,
    live_dir: Path | None = None,
    runtime: Runtime | None = None,
    soft: SoftTargets | None = None,
    init: dict | None = None,
) -> Trained:
    """Train on merged's train split, validating on its val split after every epoch.

    With a checkpoint whose fingerprint matches, the run continues after its last epoch and
    ends with the same weights as an uninterrupted run. Only the main rank writes anything.
    A student (`soft`) trains on its teacher's labelled copies instead, from `init`'s weights.
    """
    variant, spec = run.variant, run.variant.train
    check_data(variant, merged)
    device.make_deterministic()
    rt = runtime or Runtime(device.pick_device("auto"))
    device.set_threads(rt.threads, rt.local_world)
    (x_train, y_train), (x_val, y_val) = merged.part("train"), merged.part("val")
    if soft is not None:
        x_train, y_train = soft.x, soft.y
    state = load_checkpoint(checkpoint, fingerprint)
    s = build_setup(run, x_train, y_train, rt, state, init)
    s.soft = soft
    history, best = (state["history"], state["best"]) if state else ([], None)
    live = Live(str(live_dir), dvcyaml=None, save_dvc_exp=False) if rt.main and live_dir else None
    for record in history:  # DVC may have deleted the dvclive folder: replay resumed epochs
        log_epoch(live, record)
    if rt.main:
        where = f"{rt.device} x {rt.world} processes" if rt.world > 1 else str(rt.device)
        print(
            f"training {variant.name}: {len(y_train)} images, {len(y_val)} to validate, "
            f"{where}, {device.precision_name(s.amp)}"
        )

    x_train, y_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    x_val, y_val = torch.from_numpy(x_val), torch.from_numpy(y_val)
    for epoch in range(len(history), spec.epochs):
        if early_stopped(history, spec.early_stopping):
            break
        record = train_epoch(s, x_train, y_train, epoch)
        record["val_loss"], record["val_acc"] = validate(s, x_val, y_val)
        record["epoch"] = epoch + 1
        history.append(record)
        if spec.early_stopping and kept_index(history, spec.early_stopping) == epoch:
            best = cpu_copy(s.kept)
        if rt.main:
            print(EPOCH_LINE.format(epochs=spec.epochs, **record), flush=True)
            log_epoch(live, record)
            if checkpoint is not None:
                save_checkpoint(checkpoint, fingerprint, s, history, best)

    kept = kept_index(history, spec.early_stopping)
    if best is not None:
        s.kept.load_state_dict(best)
    speed = sum(h["images"] for h in history) / sum(h["seconds"] for h in history)
    if live is not None:  # the summary (a DVC metric) is the kept epoch's validation, no more
        live.summary = {k: history[kept][k] for k in SUMMARY}
        live.end()
    return Trained(s.kept, history, kept + 1, speed)
