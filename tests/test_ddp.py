"""Two CPU processes with the gloo backend run the same training loop under DistributedDataParallel, for the
frame network and for the click network."""
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
        from core.training.click_samples import ClickFrame
        from core.training.click_task import ClickTrainConfig, train_click_model
        from core.training.data import load_frames
        from core.training.frame_task import TrainConfig, train

        items = list_dataset(data)
        frames = load_frames(items[:12], 64, "calipers")
        val = load_frames(items[12:], 64, None, keep_full_truth=True)
        cfg = TrainConfig(preset="tiny", resolution=64, epochs=2, batch_size=2, threads=1, device="cpu")
        result = train(frames, val, cfg, Path(out) / "model.safetensors")
        clicks = [ClickFrame(i.stem, i.frame().gray_u8(), i.mask()) for i in items[:8]]
        click_cfg = ClickTrainConfig(resolution=32, epochs=1, batch_size=2, threads=1, device="cpu")
        click = train_click_model(clicks, clicks[:1], click_cfg, Path(out) / "click.safetensors")
        torch.save({"steps": result.steps, "state": result.final_model.state_dict(),
                    "click_steps": click.steps, "click_state": click.final_model.state_dict()},
                   Path(out) / f"rank{rank}.pt")
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
    # click network: 8 frames, 4 per rank, batch 2: 2 steps in its one epoch
    assert r0["click_steps"] == r1["click_steps"] == 2
    for key in ("state", "click_state"):  # gradients were averaged: both ranks hold the same weights
        for name, tensor in r0[key].items():
            assert torch.allclose(tensor.float(), r1[key][name].float(), atol=1e-6), (key, name)
    assert (out / "model.safetensors").exists() and (out / "click.safetensors").exists()
