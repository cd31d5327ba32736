"""The app's model process (core/serving/process_pool.ModelProcess), with thread pools standing in for processes:
`start` imports torch over there once, ahead of any model; requests reuse the one worker; a dead worker is
replaced by the next request; closing ends it. A provider given that process does not end it when its project
closes, and a request waiting on it is answered (None, no failure recorded) at once."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from core.serving import model_process
from core.serving.frame_model import ModelProvider
from core.serving.process_pool import ModelProcess

WAIT_S = 30.0


class Pools:
    """Thread pools made on demand, counted; the one in `broken` refuses requests like a dead process's pool."""

    def __init__(self) -> None:
        self.made: list[ThreadPoolExecutor] = []
        self.broken: Executor | None = None

    def __call__(self) -> Executor:
        pools = self

        class Pool(ThreadPoolExecutor):
            def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
                if self is pools.broken:
                    raise BrokenProcessPool("the worker died")
                return super().submit(fn, *args, **kwargs)

        self.made.append(Pool(max_workers=1))
        return self.made[-1]

    def shut_all(self) -> None:
        for pool in self.made:
            pool.shutdown(wait=False, cancel_futures=True)


@pytest.fixture
def pools() -> Iterator[Pools]:
    made = Pools()
    yield made
    made.shut_all()


@pytest.fixture
def preloads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """model_process.preload without torch: records the thread it ran on."""
    calls: list[str] = []

    def preload() -> int:
        calls.append(threading.current_thread().name)
        return 1

    monkeypatch.setattr(model_process, "preload", preload)
    return calls


def test_start_preloads_once_and_requests_reuse_the_same_worker(pools: Pools, preloads: list[str]) -> None:
    process = ModelProcess(pools)
    assert pools.made == [] and not process.warm  # nothing starts before it is asked to
    started = process.start()
    assert started.result(timeout=WAIT_S) == 1 and process.warm
    assert process.start() is started and len(preloads) == 1  # a second start imports nothing again
    worker = process.submit(lambda: threading.current_thread().name).result(timeout=WAIT_S)
    assert worker == preloads[0] and len(pools.made) == 1
    process.close()
    assert process.closed
    with pytest.raises(RuntimeError, match="closed"):
        process.submit(int)


def test_a_dead_worker_is_replaced_by_the_next_request(pools: Pools, preloads: list[str]) -> None:
    process = ModelProcess(pools)
    process.start().result(timeout=WAIT_S)
    pools.broken = pools.made[-1]
    assert process.submit(lambda: 7).result(timeout=WAIT_S) == 7
    assert len(pools.made) == 2
    process.close()


def test_a_failed_preload_is_not_warm(pools: Pools, monkeypatch: pytest.MonkeyPatch) -> None:
    def preload() -> int:
        raise RuntimeError("ImportError: no torch")

    monkeypatch.setattr(model_process, "preload", preload)
    process = ModelProcess(pools)
    with pytest.raises(RuntimeError):
        process.start().result(timeout=WAIT_S)
    assert not process.warm
    process.close()


def test_a_provider_leaves_a_shared_process_running_and_answers_its_waiter_at_once(
        pools: Pools, preloads: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gate, asked = threading.Event(), threading.Event()

    def predict(model_path: str, image_u8: np.ndarray) -> tuple[np.ndarray, str, float | None, np.ndarray | None]:
        asked.set()
        gate.wait(WAIT_S)
        return np.zeros(image_u8.shape, np.float32), "epoch 1", None, None

    monkeypatch.setattr(model_process, "predict", predict)
    process = ModelProcess(pools)
    process.start().result(timeout=WAIT_S)
    provider = ModelProvider(process=process)
    assert not provider.starting  # torch is in: the first answer takes loading and inference only
    model = tmp_path / "model.safetensors"
    answers: list[object] = []
    answered = threading.Event()

    def ask() -> None:
        answers.append(provider.predict(model, np.zeros((8, 8), np.uint8)))
        answered.set()

    threading.Thread(target=ask, daemon=True).start()
    assert asked.wait(WAIT_S)
    provider.close()  # the project closes while its request is still being answered
    assert answered.wait(WAIT_S) and answers == [None]
    assert provider.take_error() is None  # closing is not the model failing
    gate.set()
    assert not process.closed and len(pools.made) == 1
    # the next project's provider gets answers from the same worker
    following = ModelProvider(process=process)
    answer = following.predict(model, np.zeros((8, 8), np.uint8))
    assert answer is not None and answer.model_version == "model.safetensors:epoch 1" and len(pools.made) == 1
    following.close()
    process.close()
