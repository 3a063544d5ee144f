"""Where a process computes, how many threads it uses, and what makes two runs bit-identical."""

from __future__ import annotations

import contextlib
import os
import platform
import sys

import torch

from expressions.core.errors import TrainingError

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """`auto` takes the GPU when there is one; each torchrun process takes its own GPU."""
    cuda = torch.cuda.is_available()
    if name == "cuda" and not cuda:
        raise TrainingError(
            "runtime.device is cuda but no CUDA GPU is visible; set it to auto or cpu"
        )
    if name == "cpu" or not cuda:
        return torch.device("cpu")
    torch.cuda.set_device(local_rank)
    return torch.device("cuda", local_rank)


def usable_cpus() -> int:
    """The cores this process may run on (a container's share, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def set_threads(threads: int, processes_per_machine: int = 1) -> int:
    """0 = the machine's cores, shared out between the processes torchrun put on it."""
    count = threads or max(1, usable_cpus() // processes_per_machine)
    torch.set_num_threads(count)
    return count


def make_deterministic() -> None:
    """Same params, same machine -> same bits; the price is a few slower CUDA kernels.

    cuBLAS reads its workspace setting when CUDA starts, so this runs before any CUDA call.
    Filling fresh memory with NaN only makes bugs that read it reproducible, and cost 5-10% of
    a CPU training step here, so it stays off: the tests check the bits are identical anyway.

    `torch.use_deterministic_algorithms` also imports torch._inductor, only to set the same flag
    for compiled graphs: 2 s of a 10 s stage on a 2-core CPU (`python -X importtime`). Nothing
    here is compiled, so the flag the eager kernels read is set directly, unless inductor is
    already loaded.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if "torch._inductor" in sys.modules:
        torch.use_deterministic_algorithms(True)
    else:
        torch._C._set_deterministic_algorithms(True)
    torch.utils.deterministic.fill_uninitialized_memory = False
    torch.backends.cudnn.benchmark = False


def cpu_has_bf16() -> bool:
    """Native bfloat16 arithmetic: AVX512-BF16 or AMX on x86, oneDNN's own check elsewhere (ARM).

    Plain AVX512 would only emulate it, which is no faster than float32 here.
    """
    if platform.machine().lower() in ("x86_64", "amd64"):
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def amp_dtype(amp: str, device: torch.device, verbose: bool = True) -> torch.dtype | None:
    """The autocast dtype: fp16 on CUDA only, bf16 on CUDA or a CPU with native bf16; otherwise
    None, with a note, and the run computes in exact float32.

    `auto` is bf16 wherever the hardware computes it natively, else float32 without a note, so
    one params file suits a sweep over mixed machines. It is not the default: on FER2013 bf16
    trained the study CNN 1.5-1.9x faster here but scored about a point lower (README: Speed).
    """
    if amp == "none":
        return None
    if amp == "auto":
        native = torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_has_bf16()
        return torch.bfloat16 if native else None
    if device.type == "cuda" or (amp == "bf16" and device.type == "cpu" and cpu_has_bf16()):
        return AMP_DTYPES[amp]
    if verbose:
        where = "CUDA only" if amp == "fp16" else "CUDA and CPUs with native bfloat16 only"
        print(f"note: train.amp={amp} applies to {where}; computing in float32 on {device}")
    return None


def precision_name(dtype: torch.dtype | None) -> str:
    """How logs and benchmark tables name what amp_dtype chose."""
    return next((name for name, d in AMP_DTYPES.items() if d == dtype), "fp32")


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)
