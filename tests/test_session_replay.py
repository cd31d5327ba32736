"""The replayed annotation session (core.learning.session_replay, bench/session.py) and when the background
trainer starts by itself."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.learning.background_trainer import AUTO_TRAIN_KEY, DEFAULT_AUTO_AFTER, BackgroundTrainer
from core.learning.session_replay import ReplayConfig, ReplayFrame, label_frame, replay
from core.project.records import FrameStatus
from core.project.store import ProjectStore
from core.training.synthetic import make_frame


def synthetic_frames(folder: Path, n: int) -> list[ReplayFrame]:
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for seed in range(n):
        synthetic = make_frame(seed, size=(96, 112))
        path = folder / f"s{seed}.png"
        cv2.imwrite(str(path), synthetic.image)
        frames.append(ReplayFrame(path.stem, path, synthetic.image, synthetic.mask))
    return frames


def fingerprint(result) -> tuple:
    frames = [(f.stem, f.clicks, round(f.accepted_iou, 6), f.frame_dice and round(f.frame_dice, 6))
              for f in result.frames]
    runs = [{k: v for k, v in run.items() if k != "reason"} for run in result.runs]
    return frames, runs


def test_a_replayed_session_with_learning_is_the_same_for_the_same_seed(tmp_path):
    frames = synthetic_frames(tmp_path / "frames", 6)
    cfg = ReplayConfig(policy="clicks", retrain_every=4, minutes=None, epochs=1, click_steps=10, seed=3,
                       preset="tiny", resolution=64, starter=False, max_clicks=8)
    first = replay(frames, tmp_path / "a", cfg)
    second = replay(frames, tmp_path / "b", cfg)
    assert fingerprint(first) == fingerprint(second)
    assert len(first.runs) == 1 and first.runs[0]["after_frames"] == 4
    assert first.runs[0]["state"] == "finished", first.runs[0]
    # 4 accepted masks are too few to spare 5 to judge by: the run learns from all, its versions are kept, unused
    assert first.runs[0]["click"]["n_val"] == 0 and not first.runs[0]["click"]["switched"]
    assert first.runs[0]["frame"]["n_val"] == 0 and not first.runs[0]["frame"]["switched"]
    assert first.train_wait_s > 0
    assert len(first.frames) == 6 and first.blocks(4)[0]["frames"] == "1-4"
    # every frame is stored as the app stores it: the engine's mask, accepted
    store = ProjectStore.open(tmp_path / "a")
    try:
        assert set(store.frame_statuses().values()) == {FrameStatus.MASK_ACCEPTED}
    finally:
        store.close()


def test_the_clicks_policy_accepts_a_good_prediction_without_a_click(tmp_path):
    frame = synthetic_frames(tmp_path, 1)[0]
    cfg = ReplayConfig(max_clicks=8)
    good = frame.truth.astype(np.float32)
    mask, calipers, points, clicks = label_frame(frame, good, None, "clicks", cfg, np.random.default_rng(0))
    assert clicks == 0 and points == [] and calipers is None and mask.sum() == frame.truth.sum()
    mask, calipers, points, clicks = label_frame(frame, None, None, "clicks", cfg, np.random.default_rng(0))
    assert clicks == len(points) > 0 or clicks == cfg.max_clicks


@pytest.fixture()
def store(tmp_path):
    store = ProjectStore.create(tmp_path / "project")
    yield store
    store.close()


@pytest.mark.parametrize("configured", [None, 3])
def test_the_first_run_starts_after_the_configured_number_of_labelled_frames(store, tmp_path, monkeypatch,
                                                                             configured):
    if configured is not None:
        store.set_setting(AUTO_TRAIN_KEY, configured)
    expected = configured or DEFAULT_AUTO_AFTER
    assert DEFAULT_AUTO_AFTER <= 5  # a handful of frames, not ten
    trainer = BackgroundTrainer(store, tmp_path / "project", lambda e: None, lambda o: None)
    starts = []
    monkeypatch.setattr(trainer, "start", lambda: starts.append(True) or True)
    started_at = [n for n in range(1, expected + 3) if trainer.note_labelled_frame()]
    assert started_at[0] == expected and len(starts) >= 1
