"""Compute device choice (CUDA, then Apple MPS, then CPU), CPU thread count and mixed-precision policy."""
from __future__ import annotations

import contextlib
import os

import torch

from core.errors import SonoClickError


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def select_device(preference: str = "auto") -> torch.device:
    """'auto' picks CUDA, then MPS, then CPU; 'cuda'/'mps' fail clearly when absent; 'cuda:1' etc. pass through.
    Under torchrun the CUDA device is the process's LOCAL_RANK."""
    pref = (preference or "auto").lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if pref.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SonoClickError("--device cuda was asked for, but no CUDA GPU is available (try --device auto)")
        if pref == "cuda":
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        return torch.device(pref)
    if pref == "mps":
        if not _mps_available():
            raise SonoClickError("--device mps was asked for, but Apple MPS is not available")
        return torch.device("mps")
    if pref == "cpu":
        return torch.device("cpu")
    raise SonoClickError(f"unknown device {preference!r} (use auto, cpu, cuda or mps)")


def set_cpu_threads(threads: int | None) -> int:
    """Set torch's intra-op threads (None or <= 0 keeps the default); returns the count in force."""
    if threads and threads > 0:
        torch.set_num_threads(int(threads))
    return torch.get_num_threads()


def autocast(device: torch.device, enabled: bool = True) -> contextlib.AbstractContextManager:
    """Mixed precision on CUDA only (bfloat16 where supported, else float16); a no-op elsewhere."""
    if not enabled or device.type != "cuda":
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=amp_dtype(device))


def amp_dtype(device: torch.device) -> torch.dtype:
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def needs_grad_scaler(device: torch.device, enabled: bool = True) -> bool:
    return enabled and device.type == "cuda" and amp_dtype(device) == torch.float16
