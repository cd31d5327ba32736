"""DDP plumbing of the training loop: the process group from torchrun's environment, decisions every rank
takes together, and rank 0's batch-norm statistics for all."""
from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn


def init_distributed(device: torch.device) -> tuple[int, int]:
    """(rank, world size). Initialises the process group from torchrun's environment when needed."""
    if dist.is_available() and not dist.is_initialized() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_rank0() -> bool:
    """Whether this process is rank 0 of a torchrun group, or runs alone: the one that writes and reports."""
    return not (dist.is_available() and dist.is_initialized() and dist.get_rank() != 0)


def any_rank(flag: bool, world: int) -> bool:
    """True on every rank when `flag` is true on one, so that all ranks leave the loop at the same step."""
    if world == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def share_rank0_buffers(model: nn.Module) -> None:
    """BN running statistics are per rank; rank 0's are the ones DDP broadcasts and the checkpoint holds."""
    for buffer in model.buffers():
        dist.broadcast(buffer, 0)
    dist.barrier()
