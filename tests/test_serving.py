"""The frame model provider: which frames it predicts, that its answers are stored, that a failing or silent
model is given up once (and said so once), that it says when the model is still starting, and that ending it
ends a busy model process at once. The model process is stood in for by a thread running a fake answer, except
where the process itself is the point. Headless."""
from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.project.store import ProjectStore
from core.serving import frame_model, model_process
from core.serving.frame_model import MODEL_SETTING, ModelProvider, switch_model
from core.serving.process_pool import spawn_pool, stop_pool

REPO = Path(__file__).resolve().parents[1]
SHAPE = (24, 32)
GATE_TIMEOUT_S = 30.0


class FakeModel:
    """model_process.predict as a thread sees it: answers 0.8 everywhere, or fails, or waits for a gate."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.error: Exception | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.asked = threading.Event()

    def predict(self, model_path: str, image_u8: np.ndarray) -> tuple[np.ndarray, str, float | None, np.ndarray | None]:
        self.calls.append(model_path)
        self.asked.set()
        if not self.gate.wait(GATE_TIMEOUT_S):
            raise TimeoutError("gate never opened")
        if self.error is not None:
            raise self.error
        return np.full(image_u8.shape, 0.8, np.float32), "epoch 3", None, None


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeModel]:
    model = FakeModel()
    monkeypatch.setattr(model_process, "predict", model.predict)
    yield model
    model.gate.set()


@pytest.fixture
def provider() -> Iterator[ModelProvider]:
    p = ModelProvider(new_pool=lambda: ThreadPoolExecutor(max_workers=1))
    yield p
    p.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ProjectStore]:
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(tmp_path / name), np.full(SHAPE, 90, np.uint8))
    s = ProjectStore.create(tmp_path / "project")
    s.add_frames([tmp_path / "a.png", tmp_path / "b.png"])
    yield s
    s.close()


def _with_model(store: ProjectStore, tmp_path: Path) -> Path:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"the fake model never reads this")
    store.set_setting(MODEL_SETTING, "../model.safetensors")  # relative to the project folder
    return path


def test_only_unannotated_frames_without_a_prediction_are_predicted(store, provider, fake, tmp_path) -> None:
    frame = store.frames()[0]
    assert provider.wanted(store, frame.id, annotated=False) is None  # no model named
    path = _with_model(store, tmp_path)
    assert provider.wanted(store, frame.id, annotated=True) is None
    assert provider.wanted(store, frame.id, annotated=False) == path
    gray = np.full(SHAPE, 90, np.uint8)
    probability = provider.predict_if_needed(store, frame, gray, annotated=False)
    assert probability is not None and np.allclose(probability, 0.8)
    stored = store.prediction(frame.id)
    assert stored is not None and stored.model_version == "model.safetensors:epoch 3"
    assert provider.wanted(store, frame.id, annotated=False) is None  # has one now
    assert provider.wanted(store, frame.id, annotated=False, replace=True) == path  # a new model redoes it
    assert fake.calls == [str(path)]


def test_a_failing_model_is_given_up_and_said_so_once(store, provider, fake, tmp_path) -> None:
    path = _with_model(store, tmp_path)
    fake.error = RuntimeError("CheckpointError: not a SonoClick model")
    first, second = store.frames()
    assert provider.predict(path, np.zeros(SHAPE, np.uint8)) is None
    error = provider.take_error()
    assert error is not None and "model.safetensors" in error and "not a SonoClick model" in error
    assert provider.take_error() is None
    assert provider.wanted(store, second.id, annotated=False) is None  # not asked again
    assert provider.predict(path, np.zeros(SHAPE, np.uint8)) is None and len(fake.calls) == 1
    assert store.prediction(first.id) is None and not provider.starting


def test_a_missing_model_file_is_reported_without_asking_the_process(store, provider, fake, tmp_path) -> None:
    store.set_setting(MODEL_SETTING, str(tmp_path / "gone.safetensors"))
    assert provider.wanted(store, store.frames()[0].id, annotated=False) is None
    assert "file not found" in (provider.take_error() or "") and fake.calls == []


def test_it_says_starting_until_the_first_answer(store, provider, fake, tmp_path) -> None:
    path = _with_model(store, tmp_path)
    fake.gate.clear()
    assert provider.starting
    with ThreadPoolExecutor(max_workers=1) as caller:
        answer = caller.submit(provider.predict, path, np.zeros(SHAPE, np.uint8))
        assert fake.asked.wait(GATE_TIMEOUT_S)
        assert provider.starting and not answer.done()
        fake.gate.set()
        assert answer.result(timeout=GATE_TIMEOUT_S) is not None
    assert not provider.starting


def test_a_model_that_does_not_answer_in_time_is_given_up(store, provider, fake, tmp_path, monkeypatch) -> None:
    path = _with_model(store, tmp_path)
    monkeypatch.setattr(frame_model, "PREDICT_TIMEOUT_S", 0.05)
    fake.gate.clear()  # never answers while the provider waits
    assert provider.predict(path, np.zeros(SHAPE, np.uint8)) is None
    assert "not used" in (provider.take_error() or "") and not provider.starting
    fake.gate.set()


def _say_started_then_sleep(started: object, seconds: float) -> None:
    started.set()  # type: ignore[attr-defined]
    time.sleep(seconds)


@pytest.mark.timeout(120)
def test_stopping_ends_a_busy_model_process_at_once() -> None:
    """The request is running in the child (as when it imports torch), not merely queued: stopping must end the
    process, not only cancel what has not started (it used to leave a busy child running, unnoticed whenever the
    request had not reached the child yet)."""
    with multiprocessing.get_context("spawn").Manager() as manager:
        started = manager.Event()
        pool = spawn_pool()
        busy = pool.submit(_say_started_then_sleep, started, 600)
        assert started.wait(100)
        queued = pool.submit(os.getpid)
        stop_pool(pool)
        with pytest.raises(BrokenProcessPool):  # at once, not after the 600 s
            busy.result(timeout=30)
        with pytest.raises((BrokenProcessPool, CancelledError)):
            queued.result(timeout=30)


def test_the_providers_and_the_gui_never_import_torch() -> None:
    code = ("import sys, core.serving.frame_model, core.serving.click_model, gui.main_window, gui.app; "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_closed_provider_starts_no_model_process(store, fake, tmp_path) -> None:
    started: list[int] = []

    def new_pool() -> ThreadPoolExecutor:
        started.append(1)
        return ThreadPoolExecutor(max_workers=1)

    provider = ModelProvider(new_pool=new_pool)
    path = _with_model(store, tmp_path)
    store.set_setting("click_model_path", str(path))
    provider.close()  # a load or a prediction still running on a worker must not start one now
    assert provider.predict(path, np.zeros(SHAPE, np.uint8)) is None
    assert provider.clicks.predictor(store) is None
    assert started == [] and fake.calls == []


def test_a_new_model_redoes_the_predictions_of_unannotated_frames_only(store, provider, fake, tmp_path) -> None:
    from core.annotation.points import Calipers

    labelled, unlabelled = store.frames()
    store.set_calipers(labelled.id, 0, Calipers((4.0, 10.0), (20.0, 10.0), (12.0, 6.0), (12.0, 14.0)))
    inside = store.folder / "versions" / "v2.safetensors"
    inside.parent.mkdir()
    inside.write_bytes(b"weights")
    assert switch_model(store, inside) == [unlabelled.id]
    assert store.get_setting(MODEL_SETTING) == "versions/v2.safetensors"  # moves with the project
    assert not provider.repredict(store, labelled.id)
    store.set_prediction(unlabelled.id, np.zeros(SHAPE, np.float32), "old:epoch 1")
    assert provider.repredict(store, unlabelled.id)  # replaced, although it had one
    stored = store.prediction(unlabelled.id)
    assert stored is not None and stored.model_version == "v2.safetensors:epoch 3"
    outside = tmp_path / "elsewhere.safetensors"
    switch_model(store, outside)
    assert store.get_setting(MODEL_SETTING) == str(outside)


def test_warm_up_starts_the_model_before_any_frame_asks(fake: FakeModel, provider: ModelProvider,
                                                         store: ProjectStore, tmp_path: Path) -> None:
    assert provider.warm_up(store) is None and fake.calls == []  # no model named: nothing starts
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"read by the fake only")
    store.set_setting(MODEL_SETTING, str(model))
    assert not provider.ready and provider.starting
    assert provider.warm_up(store) == model and fake.calls == [str(model)]
    assert provider.ready and not provider.starting
    fake.error = RuntimeError("broken weights")
    other = tmp_path / "other.safetensors"
    other.write_bytes(b"x")
    store.set_setting(MODEL_SETTING, str(other))
    assert provider.warm_up(store) is None and "broken weights" in (provider.take_error() or "")
