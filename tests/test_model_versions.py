import numpy as np
import pytest

from core.errors import CheckpointError
from core.interactive.starter_models import STARTER_FALLBACK_ENV
from core.learning import versions as versions_module
from core.learning.better import (
    MIN_DECIDING_FRAMES,
    MIN_TRAINING_FRAMES,
    SIGNIFICANCE,
    clearly_better,
    held_out_count,
    judge,
)
from core.learning.click_round import split_held_out
from core.learning.mixed_supervision import split_for_validation
from core.learning.snapshot import LabelledFrame
from core.learning.versions import CLICK, CLICK_MODEL_PATH_KEY, MODEL_PATH_KEY, ModelRegistry
from core.project.store import ProjectStore
from core.training.click_samples import ClickFrame
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


def test_one_or_two_lucky_frames_cannot_decide():
    assert not clearly_better([0.9], [0.1])  # a single frame never decides
    assert not clearly_better([0.9, 0.9, 0.9, 0.9], [0.1, 0.1, 0.1, 0.1])  # nor do four, however large the gain
    assert not clearly_better([0.95, 0.9, 0.5, 0.5, 0.5, 0.5], [0.1, 0.1, 0.5, 0.5, 0.5, 0.5])  # two lucky frames
    assert not clearly_better([0.95, 0.5, 0.5, 0.5, 0.5], [0.1, 0.5, 0.5, 0.5, 0.5])  # all the gain on one frame
    assert not clearly_better([0.9, 0.6, 0.6, 0.4, 0.4], [0.5, 0.5, 0.5, 0.5, 0.5])  # wins 3, loses 2
    assert not clearly_better([3, 3, 3, 3, 9], [4, 4, 4, 4, 4], lower_is_better=True)  # ahead: 4 small wins
    assert clearly_better([0.7, 0.6, 0.55, 0.6, 0.65], [0.5, 0.5, 0.5, 0.5, 0.5])  # wins on every frame
    assert clearly_better([3, 4, 5, 2, 6, 4, 3], [5, 6, 5, 5, 8, 6, 4], lower_is_better=True)  # 6 wins, 1 tie


def test_the_judgement_says_why():
    few = judge([0.9, 0.9], [0.1, 0.1])
    assert not few.better and "2 held-out frames" in few.reason
    mixed = judge([5, 9, 9, 9, 11, 8], [10] * 6, lower_is_better=True)  # ahead, but 1 loss in 6 and small wins
    assert not mixed.better and (mixed.wins, mixed.losses) == (5, 1) and mixed.p_value > SIGNIFICANCE
    clear = judge([0.7, 0.6, 0.55, 0.6, 0.65], [0.5] * 5)
    assert clear.better and clear.p_value == pytest.approx(1 / 32)


def test_enough_frames_are_held_out_to_decide_or_none():
    assert held_out_count(MIN_DECIDING_FRAMES + MIN_TRAINING_FRAMES - 1) == 0  # too few to spare: kept, not used
    assert held_out_count(MIN_DECIDING_FRAMES + MIN_TRAINING_FRAMES) == MIN_DECIDING_FRAMES
    assert held_out_count(40) == 12


BASE = [0.6, 0.5, 0.7, 0.6, 0.5]


def test_switch_only_when_clearly_better_and_pin_wins(registry, tmp_path):
    first = add(registry, tmp_path, "a", BASE, None)  # against no model at all
    assert registry.offer(first) and registry.current().name == "v0001"
    assert registry.in_use().source == "version" and registry.in_use().version == "v0001"
    worse = add(registry, tmp_path, "b", [0.55, 0.5, 0.6, 0.6, 0.5], BASE)
    assert not registry.offer(worse) and registry.current().name == "v0001"
    lucky = add(registry, tmp_path, "c", [0.99, 0.9, 0.7, 0.6, 0.5], BASE)  # kept as a version, not used
    assert not registry.offer(lucky) and registry.current().name == "v0001"
    better = add(registry, tmp_path, "d", [0.7, 0.6, 0.75, 0.65, 0.6], BASE)
    assert registry.offer(better) and registry.current().name == "v0004"
    registry.pin("v0001")  # roll back and keep it
    even_better = add(registry, tmp_path, "e", [0.9] * 5, BASE)
    assert not registry.offer(even_better) and registry.current().name == "v0001"
    registry.unpin()
    assert registry.offer(even_better)
    assert [v.name for v in registry.versions()] == ["v0001", "v0002", "v0003", "v0004", "v0005"]
    assert registry.path_of(registry.current()).exists()


def test_a_version_judged_on_too_few_frames_is_kept_but_not_used(registry, tmp_path):
    few = add(registry, tmp_path, "a", [0.9, 0.9, 0.9], [0.1, 0.1, 0.1])
    assert not registry.offer(few) and registry.current() is None and registry.in_use().source == "none"
    assert [v.name for v in registry.versions()] == ["v0001"] and "3 held-out frames" in few.judgement().reason


def test_a_model_the_user_chose_is_never_replaced_silently(registry, store, tmp_path):
    users = checkpoint(tmp_path, "users_own")
    store.set_setting(MODEL_PATH_KEY, str(users))
    assert registry.in_use().source == "user"
    better = add(registry, tmp_path, "a", [0.9] * 5, [0.5] * 5)
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
    more_clicks = add(clicks, tmp_path, "a", [5, 6, 4, 7, 5], [4, 6, 4, 5, 5], lower_is_better=True)
    assert not clicks.offer(more_clicks) and clicks.in_use().source == "starter"
    lucky = add(clicks, tmp_path, "b", [1, 2, 4, 5, 5], [9, 8, 4, 5, 5], lower_is_better=True)  # two lucky frames
    assert not clicks.offer(lucky) and clicks.in_use().source == "starter"
    fewer = add(clicks, tmp_path, "c", [3, 4, 3, 4, 4, 2], [4, 6, 4, 5, 5, 3], lower_is_better=True)
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


def test_a_run_holds_out_enough_accepted_masks_to_judge_it_or_none():
    def masks(n):
        return [LabelledFrame(k, f"f{k}.png", 0, mask_file=f"m{k}.png") for k in range(n)]

    train, held_out, validated_on = split_for_validation(masks(12), seed=0)
    assert len(held_out) == MIN_DECIDING_FRAMES and len(train) == 7 and validated_on == "accepted masks"
    assert split_for_validation(masks(12), seed=0) == (train, held_out, validated_on)  # seeded
    train, held_out, _ = split_for_validation(masks(9), seed=0)
    assert held_out == [] and len(train) == 9  # too few to judge by: learn from all, keep the version unused
    nodule = np.zeros((8, 8), bool)
    nodule[2:5, 2:5] = True
    frames = [ClickFrame(f"f{k}", np.zeros((8, 8), np.uint8), nodule) for k in range(20)]
    negatives = [ClickFrame(f"n{k}", np.zeros((8, 8), np.uint8), np.zeros((8, 8), bool)) for k in range(5)]
    click_train, click_held_out = split_held_out(frames + negatives, seed=0)
    assert len(click_held_out) == 6 and {f.stem for f in click_train + click_held_out} == {
        f.stem for f in frames + negatives}
    assert all(f.truth.any() for f in click_held_out)  # negatives always train


def test_a_project_labelled_with_strokes_alone_still_holds_frames_out_to_judge_its_runs():
    """Without masks or enough calipers the frames with scribbles or boxes judge: else such a project's versions
    could never be used by themselves."""
    box = {"kind": "box", "points": [[2.0, 2.0], [9.0, 9.0]], "foreground": True, "width": 5.0, "object_id": 0}

    def boxed(n, first=0):
        return [LabelledFrame(k, f"f{k}.png", 0, strokes=[box]) for k in range(first, first + n)]

    calipers = [[[1.0, 1.0], [9.0, 9.0], [1.0, 9.0], [9.0, 1.0]]]
    train, held_out, validated_on = split_for_validation(boxed(12), seed=0)
    assert len(held_out) == MIN_DECIDING_FRAMES and len(train) == 7 and "scribbles or boxes" in validated_on
    with_calipers = [LabelledFrame(k, f"c{k}.png", 0, calipers=calipers) for k in range(100, 112)]
    assert split_for_validation(with_calipers + boxed(12), seed=0)[2] == "held-out caliper labels"
    assert split_for_validation(boxed(9), seed=0)[1] == []
    background_only = [LabelledFrame(k, f"b{k}.png", 0, strokes=[{**box, "kind": "scribble", "foreground": False}])
                       for k in range(200, 212)]
    assert split_for_validation(background_only, seed=0)[1] == []  # nothing there to score a nodule against
