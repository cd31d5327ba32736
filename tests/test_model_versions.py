import numpy as np
import pytest

from core.errors import CheckpointError
from core.learning.versions import ModelRegistry
from core.project.store import ProjectStore
from models.checkpoint import save_checkpoint
from models.unet import UNet, UNetSpec


@pytest.fixture()
def registry(tmp_path):
    store = ProjectStore.create(tmp_path / "project")
    yield ModelRegistry(store, tmp_path / "project")
    store.close()


def checkpoint(tmp_path, name: str):
    spec = UNetSpec(widths=(4, 8))
    return save_checkpoint(tmp_path / f"{name}.safetensors", UNet(spec), {"note": name})


def test_switch_only_when_better_and_pin_wins(registry, tmp_path):
    first = registry.add(checkpoint(tmp_path, "a"), 0.60, None, "accepted masks", 5)
    assert registry.offer(first) and registry.current().name == "v0001"
    worse = registry.add(checkpoint(tmp_path, "b"), 0.55, 0.61, "accepted masks", 5)
    assert not registry.offer(worse) and registry.current().name == "v0001"
    better = registry.add(checkpoint(tmp_path, "c"), 0.70, 0.61, "accepted masks", 6)
    assert registry.offer(better) and registry.current().name == "v0003"
    registry.pin("v0001")  # roll back and keep it
    even_better = registry.add(checkpoint(tmp_path, "d"), 0.9, 0.6, "accepted masks", 6)
    assert not registry.offer(even_better) and registry.current().name == "v0001"
    registry.unpin()
    assert registry.offer(even_better)
    assert [v.name for v in registry.versions()] == ["v0001", "v0002", "v0003", "v0004"]
    assert registry.path_of(registry.current()).exists()


def test_a_file_that_is_not_our_checkpoint_is_refused(registry, tmp_path):
    bogus = tmp_path / "x.safetensors"
    bogus.write_bytes(np.random.default_rng(0).bytes(300))
    with pytest.raises(CheckpointError):
        registry.add(bogus, 0.9, None, "accepted masks", 1)
    assert registry.versions() == []
