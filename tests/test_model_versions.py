import numpy as np
import pytest

from core.errors import CheckpointError
from core.interactive.starter_models import STARTER_FALLBACK_ENV
from core.learning import versions as versions_module
from core.learning.better import clearly_better
from core.learning.versions import CLICK, CLICK_MODEL_PATH_KEY, MODEL_PATH_KEY, ModelRegistry
from core.project.store import ProjectStore
from models.checkpoint import save_checkpoint
from models.unet import UNet, UNetSpec


@pytest.fixture()
def store(tmp_path):
    store = ProjectStore.create(tmp_path / "project")
    yield store
    store.close()


@pytest.fixture()
def registry(store, tmp_path):
    return ModelRegistry(store, tmp_path / "project")


def checkpoint(tmp_path, name: str):
    spec = UNetSpec(widths=(4, 8))
    return save_checkpoint(tmp_path / f"{name}.safetensors", UNet(spec), {"note": name})


def add(registry, tmp_path, name, scores, baseline, lower_is_better=False):
    def mean(xs):
        return None if xs is None else float(np.mean(xs))

    return registry.add(checkpoint(tmp_path, name), mean(scores), mean(baseline), "accepted masks", len(scores),
                        frame_scores=scores, baseline_frame_scores=baseline, lower_is_better=lower_is_better)


def test_one_lucky_frame_cannot_decide():
    assert not clearly_better([0.9], [0.1])  # a single frame never decides
    assert not clearly_better([0.95, 0.5, 0.5, 0.5], [0.1, 0.5, 0.5, 0.5])  # all the gain on one frame
    assert not clearly_better([0.9, 0.6, 0.4], [0.5, 0.5, 0.5])  # wins 2, loses 1, but without the best: -0.0
    assert clearly_better([0.7, 0.6, 0.55], [0.5, 0.5, 0.5])
    assert clearly_better([3, 4, 5], [5, 6, 5], lower_is_better=True)
    assert not clearly_better([3, 6, 5], [9, 6, 5], lower_is_better=True)


def test_switch_only_when_clearly_better_and_pin_wins(registry, tmp_path):
    first = add(registry, tmp_path, "a", [0.6, 0.5, 0.7], None)  # against no model at all
    assert registry.offer(first) and registry.current().name == "v0001"
    assert registry.in_use().source == "version" and registry.in_use().version == "v0001"
    worse = add(registry, tmp_path, "b", [0.55, 0.5, 0.6], [0.6, 0.5, 0.7])
    assert not registry.offer(worse) and registry.current().name == "v0001"
    lucky = add(registry, tmp_path, "c", [0.99, 0.5, 0.7], [0.6, 0.5, 0.7])
    assert not registry.offer(lucky) and registry.current().name == "v0001"
    better = add(registry, tmp_path, "d", [0.7, 0.6, 0.75], [0.6, 0.5, 0.7])
    assert registry.offer(better) and registry.current().name == "v0004"
    registry.pin("v0001")  # roll back and keep it
    even_better = add(registry, tmp_path, "e", [0.9, 0.9, 0.9], [0.6, 0.5, 0.7])
    assert not registry.offer(even_better) and registry.current().name == "v0001"
    registry.unpin()
    assert registry.offer(even_better)
    assert [v.name for v in registry.versions()] == ["v0001", "v0002", "v0003", "v0004", "v0005"]
    assert registry.path_of(registry.current()).exists()


def test_a_model_the_user_chose_is_never_replaced_silently(registry, store, tmp_path):
    users = checkpoint(tmp_path, "users_own")
    store.set_setting(MODEL_PATH_KEY, str(users))
    assert registry.in_use().source == "user"
    better = add(registry, tmp_path, "a", [0.9, 0.9, 0.9], [0.5, 0.5, 0.5])
    assert not registry.offer(better)
    assert store.path_setting(MODEL_PATH_KEY) == users and registry.current() is None
    registry.pin(better.name)  # only the user's own choice replaces it
    assert registry.in_use().source == "version" and registry.in_use().path == registry.path_of(better)


def test_a_click_network_version_is_switched_in_only_when_fewer_clicks(store, tmp_path, monkeypatch):
    starter = checkpoint(tmp_path, "starter")
    monkeypatch.setattr(versions_module, "starter_click_path", lambda: starter)
    monkeypatch.setenv(STARTER_FALLBACK_ENV, "on")
    clicks = ModelRegistry(store, tmp_path / "project", CLICK)
    assert clicks.in_use().source == "starter" and "breast" in clicks.in_use().label
    more_clicks = add(clicks, tmp_path, "a", [5, 6, 4, 7], [4, 6, 4, 5], lower_is_better=True)
    assert not clicks.offer(more_clicks) and clicks.in_use().source == "starter"
    fewer = add(clicks, tmp_path, "b", [3, 4, 4, 5], [4, 6, 4, 5], lower_is_better=True)
    assert clicks.offer(fewer) and clicks.in_use().version == fewer.name
    assert store.path_setting(CLICK_MODEL_PATH_KEY) == clicks.path_of(fewer)
    assert clicks.folder != ModelRegistry(store, tmp_path / "project").folder  # the frame model's versions apart
    assert fewer.score_name == "NoC@85"


def test_a_file_that_is_not_our_checkpoint_is_refused(registry, tmp_path):
    bogus = tmp_path / "x.safetensors"
    bogus.write_bytes(np.random.default_rng(0).bytes(300))
    with pytest.raises(CheckpointError):
        registry.add(bogus, 0.9, None, "accepted masks", 1)
    assert registry.versions() == []
