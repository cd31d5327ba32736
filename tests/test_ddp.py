"""Two CPU processes with the gloo backend run the same training loop under DistributedDataParallel."""
import os
import socket
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, data: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        from core.io.dataset import list_dataset
        from core.training.data import load_frames
        from core.training.trainer import TrainConfig, train

        items = list_dataset(data)
        frames = load_frames(items[:12], 64, "calipers")
        val = load_frames(items[12:], 64, None, keep_full_truth=True)
        cfg = TrainConfig(preset="tiny", resolution=64, epochs=2, batch_size=2, threads=1, device="cpu")
        result = train(frames, val, cfg, Path(out) / "model.safetensors")
        torch.save({"steps": result.steps, "state": result.final_model.state_dict()}, Path(out) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_process_gloo_training(tmp_path: Path) -> None:
    from tests.conftest import write_dataset

    data = write_dataset(tmp_path / "data", 16)
    out = tmp_path / "run"
    out.mkdir()
    mp.spawn(_worker, args=(2, _free_port(), str(data), str(out)), nprocs=2, join=True)
    r0 = torch.load(out / "rank0.pt", weights_only=True)
    r1 = torch.load(out / "rank1.pt", weights_only=True)
    # 12 frames, 6 per rank, batch 2: 3 steps per epoch on each rank, in lock step
    assert r0["steps"] == r1["steps"] == 6
    for name, tensor in r0["state"].items():  # gradients were averaged: both ranks hold the same weights
        assert torch.allclose(tensor.float(), r1["state"][name].float(), atol=1e-6), name
    assert (out / "model.safetensors").exists()
