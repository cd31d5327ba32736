import json
import pickle
from pathlib import Path

import pytest
import torch

from core.errors import CheckpointError
from models.checkpoint import load_checkpoint, read_metadata, save_checkpoint
from models.unet import build_unet


class Payload:
    """A pickled object whose unpickling runs code: it creates the file `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _saved(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = build_unet("tiny", ("image", "ds_prior"))
    return save_checkpoint(tmp_path / "model.safetensors", model, {"resolution": 64, "metrics": {"val_dice": 0.5}})


def test_round_trip_restores_weights_and_metadata(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    torch.manual_seed(0)
    original = build_unet("tiny", ("image", "ds_prior")).eval()
    model, meta = load_checkpoint(path)
    x = torch.randn(1, 2, 32, 32)
    assert torch.allclose(model(x), original(x))
    assert meta["resolution"] == 64 and meta["metrics"]["val_dice"] == 0.5
    assert meta["architecture"]["input_channels"] == ["image", "ds_prior"]
    assert "torch" in meta["versions"] and read_metadata(path)["format"] == "sonoclick-segmenter"
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary files left behind


def test_pickle_payload_is_refused_without_running_it(tmp_path: Path) -> None:
    proof, marker = tmp_path / "unpickled", tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(proof)))
    assert proof.exists()  # the payload does run when unpickled
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": build_unet("tiny").state_dict(), "extra": Payload(marker)}, path)
    with pytest.raises(CheckpointError, match="evil.pt"):
        load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"abc", b"\x00" * 64, bytes(range(256)) * 8])
def test_random_or_short_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1000])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path)


def test_foreign_safetensors_and_mismatched_weights_are_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(foreign))
    with pytest.raises(CheckpointError, match="not a SonoClick checkpoint"):
        load_checkpoint(foreign)
    path = _saved(tmp_path)
    meta = read_metadata(path)
    meta["architecture"]["widths"] = [4, 8, 16, 32]
    from safetensors.torch import load_file

    save_file(load_file(str(path)), str(tmp_path / "bad.safetensors"), metadata={"sonoclick": json.dumps(meta)})
    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(tmp_path / "bad.safetensors")
    with pytest.raises(CheckpointError, match="input channels"):
        load_checkpoint(path, expect_channels=("image",))
