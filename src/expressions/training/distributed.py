"""Running the same training script as one process or as N torchrun processes (DDP).

The design goal is that N ranks make the same updates as one process, up to float rounding:
every rank derives the same global batches, takes a contiguous 1/N of each, scales its summed
loss by the global batch's denominator, and BatchNorm normalises over the global batch. Plain
DDP gets the gradient averaging right but normalises each rank's shard on its own, and
nn.SyncBatchNorm, which fixes that, runs on CUDA only, hence SharedBatchNorm2d below.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from expressions.config.runtime import RuntimeSpec
from expressions.training.device import pick_device


@dataclass(frozen=True)
class Runtime:
    """Where this process computes and which part of each global batch it owns."""

    device: torch.device
    rank: int = 0
    world: int = 1
    local_world: int = 1  # processes on this machine, which share its cores
    threads: int = 0  # params.yaml runtime.threads: torch CPU threads, 0 = one per core
    workers: int = 0  # runtime.workers: data-loader processes, 0 = batches built in this one

    @property
    def main(self) -> bool:
        """Only the main process prints, logs and writes files."""
        return self.rank == 0

    def shard(self, n: int) -> slice:
        """This rank's contiguous part of n items; sizes differ by at most one."""
        base, extra = divmod(n, self.world)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (self.rank < extra))


@contextmanager
def launch(knobs: RuntimeSpec) -> Iterator[Runtime]:
    """The Runtime torchrun's environment describes; a plain `python` run is one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    threads, workers = knobs.threads, knobs.workers
    if world == 1:
        yield Runtime(pick_device(knobs.device), threads=threads, workers=workers)
        return
    local_rank = int(os.environ["LOCAL_RANK"])
    device = pick_device(knobs.device, local_rank)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield Runtime(
            device,
            rank=dist.get_rank(),
            world=world,
            local_world=int(os.environ.get("LOCAL_WORLD_SIZE", "1")),
            threads=threads,
            workers=workers,
        )
    finally:
        dist.destroy_process_group()


def all_sum(value: float, runtime: Runtime) -> float:
    """The sum of `value` over all ranks (float64, so the order of addition hardly matters)."""
    if runtime.world == 1:
        return value
    total = torch.tensor(value, dtype=torch.float64, device=runtime.device)
    dist.all_reduce(total)
    return total.item()


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks, differentiable: the gradient of each rank's input is the ranks' summed
    output gradients (torch.distributed.nn's version of this is deprecated)."""

    @staticmethod
    def forward(ctx: object, x: torch.Tensor) -> torch.Tensor:
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx: object, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class SharedBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm whose training statistics span every rank's shard of the global batch.

    Two-pass mean and variance as the native kernel does; autograd flows through the
    all-reduces, so gradients match one process normalising the whole batch.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        xf = x.float()
        local = torch.cat([xf.sum((0, 2, 3)), xf.new_tensor([xf.numel() / xf.shape[1]])])
        summed = _AllReduceSum.apply(local)
        count = summed[-1].detach()
        mean = summed[:-1] / count
        centred = xf - mean[None, :, None, None]
        var = _AllReduceSum.apply((centred * centred).sum((0, 2, 3))) / count
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(var * count / (count - 1), self.momentum)
        scale = (torch.rsqrt(var + self.eps) * self.weight)[None, :, None, None]
        return (centred * scale + self.bias[None, :, None, None]).to(x.dtype)


def share_batchnorm(module: nn.Module) -> None:
    """Swap every BatchNorm2d for SharedBatchNorm2d in place; state_dict keys stay the same."""
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            shared = SharedBatchNorm2d(child.num_features, child.eps, child.momentum)
            shared.load_state_dict(child.state_dict())
            setattr(module, name, shared.to(child.weight.device))
        else:
            share_batchnorm(child)


def wrap(model: nn.Module, runtime: Runtime) -> nn.Module:
    """The module to train: the model itself, or under torchrun a DDP wrapper around it.

    Call before building the optimizer: the BatchNorm swap replaces parameters.
    """
    if runtime.world == 1:
        return model
    share_batchnorm(model)
    device_ids = [runtime.device.index] if runtime.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)
