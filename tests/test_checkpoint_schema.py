"""Issue 15, finding 6: checkpoint metadata is checked against a schema before a network is built, and weights must
be finite. Every refusal is a CheckpointError naming the file, and comes before any large allocation."""
import json
import resource
import struct
from pathlib import Path

import pytest
import torch

from models.checkpoint import load_checkpoint, read_metadata, save_checkpoint
from models.checkpoint_header import METADATA_KEY
from models.errors import CheckpointError
from models.unet import build_unet


def saved(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    return save_checkpoint(tmp_path / "model.safetensors", build_unet("tiny"),
                           {"resolution": 64, "normalisation": {"scale": 1 / 255, "mean": 0.25, "std": 0.2}})


def split(path: Path) -> tuple[dict, bytes]:
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def rewrite(path: Path, header: dict, body: bytes) -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)
    return path


def with_metadata(path: Path, change) -> Path:
    header, body = split(path)
    meta = json.loads(header["__metadata__"][METADATA_KEY])
    change(meta)
    header["__metadata__"][METADATA_KEY] = json.dumps(meta)
    return rewrite(path, header, body)


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(meta: dict) -> None:
        target = meta
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def _drop(*keys):
    def change(meta: dict) -> None:
        target = meta
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return change


@pytest.mark.parametrize(("change", "message"), [
    (_drop("architecture"), "lacks 'architecture'"),
    (_drop("architecture", "widths"), "'widths' must be"),
    (_set("architecture", "widths", "8,16"), "'widths' must be"),
    (_set("architecture", "widths", [8, -16, 32]), "'widths' must be"),
    (_set("architecture", "widths", [8, 16, 10**9]), "'widths' must be"),
    (_set("architecture", "widths", [2048] * 8), "parameters is larger than SonoClick loads"),
    (_set("architecture", "widths", [8.5, 16]), "'widths' must be"),
    (_set("architecture", "block", "transformer"), "unknown block type 'transformer'"),
    (_set("architecture", "block", ["residual"]), "unknown block type"),
    (_set("architecture", "depthwise", "yes"), "'depthwise' must be true or false"),
    (_set("architecture", "input_channels", "image"), "'input_channels' must be"),
    (_set("architecture", "input_channels", []), "'input_channels' must be"),
    (_set("architecture", 7), "'architecture' must be an object"),
    (_set("resolution", -64), "'resolution' must be an integer"),
    (_set("resolution", 10**7), "'resolution' must be an integer"),
    (_set("resolution", "64"), "'resolution' must be an integer"),
    (_set("normalisation", {"mean": 0.2}), "'normalisation' needs"),
    (_set("normalisation", {"mean": 0.2, "std": -1}), "'normalisation' needs"),
    (_set("format_version", "1"), "'format_version' must be an integer"),
    (_set("task", 3), "'task' must be a string"),
])
def test_malformed_metadata_is_refused_with_the_field_named(tmp_path: Path, change, message: str) -> None:
    path = with_metadata(saved(tmp_path), change)
    with pytest.raises(CheckpointError, match=message):
        read_metadata(path)
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_checkpoint(path)


def test_an_enormous_architecture_is_refused_before_any_allocation(tmp_path: Path) -> None:
    path = with_metadata(saved(tmp_path), _set("architecture", "widths", [4096, 4096, 4096, 4096, 4096]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing was built


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(tmp_path: Path, value: float) -> None:
    torch.manual_seed(0)
    model = build_unet("tiny")
    with torch.no_grad():
        model.head.weight[0, 0, 0, 0] = value
    path = save_checkpoint(tmp_path / "model.safetensors", model, {"resolution": 64})
    with pytest.raises(CheckpointError, match="NaN or infinite weights"):
        load_checkpoint(path)


@pytest.mark.parametrize("depth", [100_000])
def test_deeply_nested_header_or_metadata_is_a_checkpoint_error(tmp_path: Path, depth: int) -> None:
    path = saved(tmp_path)
    header, body = split(path)
    deep = "[" * depth + "]" * depth
    raw = ('{"__metadata__": {"x": "1"}, "t": ' + deep + "}").encode()
    deep_header = tmp_path / "deep_header.safetensors"
    deep_header.write_bytes(struct.pack("<Q", len(raw)) + raw + body)
    with pytest.raises(CheckpointError, match="deep_header"):
        read_metadata(deep_header)
    header["__metadata__"][METADATA_KEY] = deep
    with pytest.raises(CheckpointError, match="nested too deeply"):
        read_metadata(rewrite(tmp_path / "deep_meta.safetensors", header, body))


@pytest.mark.parametrize("entry", [
    {"__metadata__": "not an object"}, {"__metadata__": {METADATA_KEY: 5}}, {"t": [1, 2]},
    {"t": {"dtype": "F32", "shape": [2], "data_offsets": [8]}}, {"t": {"dtype": "F32", "shape": [-2],
                                                                       "data_offsets": [0, 8]}},
])
def test_malformed_header_entries_are_refused(tmp_path: Path, entry: dict) -> None:
    header, body = split(saved(tmp_path))
    header.update(entry)
    with pytest.raises(CheckpointError, match="model.safetensors"):
        read_metadata(rewrite(tmp_path / "model.safetensors", header, body))


def test_a_header_over_the_size_bound_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.safetensors"
    with path.open("wb") as f:
        f.write(struct.pack("<Q", 50_000_000))
        f.truncate(50_000_100)
    with pytest.raises(CheckpointError, match="header of 50,000,000 bytes is larger"):
        read_metadata(path)


def test_the_round_trip_still_loads(tmp_path: Path) -> None:
    model, meta = load_checkpoint(saved(tmp_path))
    assert meta["resolution"] == 64 and model.spec.widths == (8, 16, 32, 64)
