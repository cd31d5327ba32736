"""build_scripts/assemble_starter_ensemble.py: starter click networks trained apart become one ensemble."""
from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import SonoClickError
from core.interactive.click_network import ClickPredictor
from core.interactive.starter_models import STARTER_SOURCE
from core.labels.crop import Crop
from core.training.synthetic import make_frame
from models.checkpoint_header import read_metadata
from tests.click_checkpoints import build_script, click_checkpoint


def _network(path: Path, seed: int, licence: str = STARTER_SOURCE["licence"], **extra) -> Path:
    return click_checkpoint(path, seed, starter={**STARTER_SOURCE, "licence": licence, "seed": seed}, **extra)


def test_networks_trained_apart_answer_as_one_ensemble(tmp_path) -> None:
    runs = [_network(tmp_path / "run_a" / "click_starter.safetensors", 0, ensemble=["old.safetensors"]),
            _network(tmp_path / "run_a" / "other.safetensors", 1),
            _network(tmp_path / "run_b" / "click_starter.safetensors", 2, ensemble=["old.safetensors"])]
    out = tmp_path / "models" / "click_starter.safetensors"
    out.parent.mkdir()
    stale = out.parent / "click_starter.member7.safetensors"
    stale.write_bytes(b"left from an older ensemble")
    files = build_script("assemble_starter_ensemble").assemble(runs, out, "the command")
    assert files[0] == out and not stale.exists()
    head = read_metadata(out)
    assert head["ensemble"] == ["click_starter.member1.safetensors", "click_starter.member2.safetensors"]
    assert head["starter"]["assembled_by"] == "the command"
    member = read_metadata(files[2])
    assert "ensemble" not in member and member["starter"]["assembled_from"] == "run_b/click_starter.safetensors"
    assert member["starter"]["seed"] == 2
    frame = make_frame(3, size=(120, 160))
    args = (frame.image, Crop(10, 110, 20, 140), np.array([[80.0, 60.0]]), np.zeros((0, 2)), None)
    ensemble = ClickPredictor.load(out, threads=1)
    alone = [ClickPredictor._load_one(path, torch.device("cpu")).predict(*args) for path in runs]
    assert len(ensemble.members) == 2
    assert np.allclose(ensemble.predict(*args), np.mean(alone, axis=0), atol=1e-5)


def test_a_network_not_trained_on_cc0_data_is_refused(tmp_path) -> None:
    runs = [_network(tmp_path / "a.safetensors", 0), _network(tmp_path / "b.safetensors", 1, licence="research")]
    with pytest.raises(SonoClickError, match="b.safetensors"):
        build_script("assemble_starter_ensemble").assemble(runs, tmp_path / "models" / "click_starter.safetensors",
                                                           "the command")
    assert not (tmp_path / "models").exists()
