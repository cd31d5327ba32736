"""Faults of the app's other processes, for the fuzz suite and bench/robustness.py: the background trainer's
child killed at a random point, the model process (frame model or click network) killed at a random point, and
two app instances writing one project at once (one of them sometimes killed). Each returns an Outcome (see
tests.fuzz_cases): "wrong" when the app did not keep answering, did not report the fault, could not start anew
or lost an acknowledged edit. POSIX only (fork, SIGKILL)."""
from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

import cv2
import numpy as np

from core.annotation.caliper_simulation import calipers_from_label_map
from core.annotation.points import Point, PointKind
from core.project.records import MaskProvenance
from core.project.store import ProjectStore
from core.training.synthetic import make_frame
from tests.fault_runs import _child, _missing, _read_lines, project_copy
from tests.fuzz_cases import FRAME_SIZE, Outcome, _cached, checkpoint_seed, judged, rng_for

WAIT_S = 120.0  # generous: torch starts in a child on a loaded machine; the bench's own timeout catches hangs
TRAINER_FRAME = (96, 112)


class Events(list):
    """An on_event callback whose `arrived(n)` waits (with a timeout) until n events have come in."""

    def __init__(self) -> None:
        super().__init__()
        self._more = threading.Condition()

    def __call__(self, event: dict) -> None:
        with self._more:
            self.append(event)
            self._more.notify_all()

    def arrived(self, n: int, timeout: float = WAIT_S) -> bool:
        with self._more:
            return self._more.wait_for(lambda: len(self) >= n, timeout)


def _app_edits(store: ProjectStore, frame_id: int, tag: int) -> list[tuple[int, int, int]]:
    """What the user does meanwhile: a click and an accepted mask; (frame, point id, object id) to look up."""
    pid = store.add_point(frame_id, Point(20.0, 30.0, PointKind.FOREGROUND, tag))
    mask = np.zeros(TRAINER_FRAME, bool)
    mask[10:40, 20:60] = True
    store.set_mask(frame_id, tag, mask, MaskProvenance.PAINTED, accepted=False)
    store.accept_mask(frame_id, tag)
    return [(frame_id, pid, tag)]


def _lost(folder: Path, edits: list[tuple[int, int, int]]) -> int:
    with ProjectStore.open(folder) as store:
        return sum(pid not in store.points(f) or not (m := store.masks(f).get(obj)) or not m.accepted
                   for f, pid, obj in edits)


# ------------------------------------------------------------------------------------------- killed trainer
def trainer_project(folder: Path) -> tuple[ProjectStore, list[int]]:
    frames = folder / "frames"
    frames.mkdir(parents=True)
    for seed in range(8):
        cv2.imwrite(str(frames / f"f{seed}.png"), make_frame(seed, size=TRAINER_FRAME).image)
    store = ProjectStore.create(folder / "project")
    records = store.add_frames(sorted(frames.glob("*.png")))
    for seed, record in enumerate(records[:6]):
        store.set_calipers(record.id, 0, calipers_from_label_map(make_frame(seed, size=TRAINER_FRAME).labels)[0])
    return store, [r.id for r in records[6:]]


def run_killed_trainer(index: int, workdir: Path) -> Outcome:
    """SIGKILL the trainer's child after a random number of its events (0: while it starts): the app is told
    why, keeps its live model and every edit made meanwhile, and a new training can start."""
    return judged(lambda: _killed_trainer(index, workdir))


def _killed_trainer(index: int, workdir: Path) -> Outcome:
    from core.learning.background_trainer import BackgroundTrainer
    from core.learning.job_process import JobState

    rng = rng_for("trainer", index)
    store, free = trainer_project(workdir / f"trainer_{index}")
    events, ends, ended = Events(), [], threading.Semaphore(0)
    trainer = BackgroundTrainer(store, store.folder, events, lambda o: (ends.append(o), ended.release()),
                                minutes=None, epochs=30, preset="tiny", resolution=64, watchdog_s=WAIT_S)
    try:
        if not trainer.start():
            return Outcome("wrong", "the trainer did not start")
        kill_after = int(rng.integers(0, 6))
        edits = _app_edits(store, free[0], 1)
        if not events.arrived(kill_after):
            return Outcome("wrong", f"no {kill_after} events from the trainer within {WAIT_S:g} s")
        os.kill(trainer.pid, signal.SIGKILL)
        if not ended.acquire(timeout=WAIT_S):
            return Outcome("wrong", "a killed trainer was never reported")
        end = ends[0]
        edits += _app_edits(store, free[1], 2)
        finished = end.exit.state == JobState.FINISHED and end.version is not None
        if not finished and (end.exit.state != JobState.FAILED or "SIGKILL" not in end.exit.reason):
            return Outcome("wrong", f"killed trainer reported as {end.exit.state}: {end.exit.reason}")
        if not finished and (end.version is not None or trainer.registry.current() is not None):
            return Outcome("wrong", "a killed run became a model version")
        if not trainer.start():  # the app can train again: it really runs, then the user cancels it
            return Outcome("wrong", "no new training could start after the kill")
        started = len(events)
        if not events.arrived(started + 1):
            return Outcome("wrong", "the new training never reported")
        trainer.cancel()
        if not ended.acquire(timeout=WAIT_S) or ends[1].exit.state != JobState.CANCELLED:
            return Outcome("wrong", "the new training was not cancelled cleanly")
        return Outcome("ok", end.exit.reason, _lost(store.folder, edits))
    finally:
        trainer.cancel()
        trainer.wait(WAIT_S)
        store.close()


# ------------------------------------------------------------------------------------------ killed model process
class PoolLog:
    """A new_pool for the providers that remembers each model process pool it makes (to kill its process)."""

    def __init__(self) -> None:
        from core.serving.process_pool import spawn_pool

        self._spawn = spawn_pool
        self.pools: list[Executor] = []
        self.made = threading.Event()

    def __call__(self) -> Executor:
        self.pools.append(self._spawn())
        self.pools[-1].submit(os.getpid)  # the process starts with the first request: make it exist to kill it
        self.made.set()
        return self.pools[-1]

    def kill(self) -> int:
        """SIGKILL the newest pool's processes, however far they got; how many were killed."""
        processes = list((getattr(self.pools[-1], "_processes", None) or {}).values())
        for process in processes:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGKILL)
        return len(processes)


def _click_checkpoint_bytes(workdir: Path) -> bytes:
    import torch

    from core.interactive.click_inputs import CLICK_CHANNELS
    from models.checkpoint import save_checkpoint
    from models.unet import UNet, spec_from_preset

    torch.manual_seed(0)
    meta = {"task": "interactive", "resolution": 32, "normalisation": {"mean": 0.3, "std": 0.2}}
    return save_checkpoint(workdir / "seed_click.safetensors", UNet(spec_from_preset("tiny", CLICK_CHANNELS)),
                           meta).read_bytes()


def _kill_at_random_point(rng: np.random.Generator, pools: PoolLog, request: Callable[[], object]) -> None:
    """Kill the model process while `request` runs (after a seeded delay: starting, loading or predicting) or,
    when a pool exists already, sometimes between requests."""
    if pools.pools and rng.random() < 0.4:
        pools.kill()
        return
    done = threading.Event()

    def run() -> None:
        try:
            request()
        finally:  # a request that failed at once must not leave the killer waiting
            done.set()
            pools.made.set()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    pools.made.wait(WAIT_S)
    done.wait(float(rng.uniform(0.0, 3.0)))
    pools.kill()
    worker.join(WAIT_S)


def run_killed_frame_model(rng: np.random.Generator, folder: Path) -> Outcome:
    from core.serving.frame_model import MODEL_SETTING, ModelProvider

    model = folder / "model.safetensors"
    model.write_bytes(_cached("checkpoint_seed", lambda: checkpoint_seed(folder)))
    gray = make_frame(3, size=TRAINER_FRAME).image
    pools = PoolLog()
    provider = ModelProvider(new_pool=pools)
    with ProjectStore.create(folder / "project") as store:
        store.set_setting(MODEL_SETTING, str(model))
        try:
            for _ in range(int(rng.integers(0, 3))):
                if provider.predict(model, gray) is None:
                    return Outcome("wrong", f"the model did not answer before the fault: {provider.last_error}")
            _kill_at_random_point(rng, pools, lambda: provider.predict(model, gray))
            if provider.predict(model, gray) is not None:  # the dead process cannot answer
                return Outcome("wrong", "an answer came from a killed model process")
            error = provider.take_error()
            if not error or model.name not in error:
                return Outcome("wrong", f"the killed model process was not reported ({error})")
            provider.forget_failure(model)  # the user chooses the model again
            answer = provider.predict(model, gray)
            if answer is None or answer.probability.shape != gray.shape:
                return Outcome("wrong", f"no new model process could start: {provider.last_error}")
            return Outcome("ok", error)
        finally:
            provider.close()


def run_killed_click_model(rng: np.random.Generator, folder: Path) -> Outcome:
    from core.interactive.session import InteractionSession
    from core.labels.crop import Crop
    from core.serving.click_model import CLICK_MODEL_SETTING, ClickModelProvider

    model = folder / "click.safetensors"
    model.write_bytes(_cached("click_checkpoint", lambda: _click_checkpoint_bytes(folder)))
    frame = make_frame(2, size=(120, 140), contrast=0.6)
    ys, xs = np.nonzero(frame.mask)
    cx, cy = int(xs.mean()), int(ys.mean())
    window, clicks = Crop(20, 90, 30, 110), (np.array([[60.0, 50.0]]), np.array([[35.0, 25.0]]))
    pools = PoolLog()
    provider = ClickModelProvider(new_pool=pools)
    with ProjectStore.create(folder / "project") as store:
        store.set_setting(CLICK_MODEL_SETTING, str(model))
        try:
            remote = provider.predictor(store)
            if rng.random() < 0.5 and not provider.wait_until_loaded(model, WAIT_S):
                return Outcome("wrong", f"the click model did not load before the fault: {provider.last_error}")
            _kill_at_random_point(rng, pools, lambda: provider.wait_until_loaded(model, WAIT_S))
            mask = InteractionSession(frame.image, click_model=remote).add_click(cx, cy, True)
            if not mask[cy, cx]:  # the engine answers without the model
                return Outcome("wrong", "the engine did not answer a click after the model process died")
            provider.wait_until_loaded(model, WAIT_S)  # as the app's loader does: a load cut short is said so
            error = provider.last_error
            if not error or model.name not in error:
                return Outcome("wrong", f"the killed click model process was not reported ({error})")
            provider.forget_failure(model)
            again = provider.predictor(store)
            if again is None or not provider.wait_until_loaded(model, WAIT_S):
                return Outcome("wrong", f"no new click model process could start: {provider.last_error}")
            if again.predict(frame.image, window, *clicks, None).shape != window.shape:
                return Outcome("wrong", "the new click model process answered the wrong shape")
            return Outcome("ok", error)
        finally:
            provider.close()


def run_killed_model(index: int, workdir: Path) -> Outcome:
    """SIGKILL the model process at a random point (even cases: the frame model; odd: the click network)."""
    rng = rng_for("model_process", index)
    folder = workdir / f"model_{index}"
    folder.mkdir()
    run = run_killed_click_model if index % 2 else run_killed_frame_model
    return judged(lambda: run(rng, folder))


# ------------------------------------------------------------------------------------ two app instances
def _instance(folder: Path, tag: int, count: int) -> Callable:
    """An app instance editing both frames of the project: clicks, draft masks accepted, accepted masks. Each
    acknowledged edit is named "kind frame id" (p: a point id, a: an accepted mask's object)."""

    def work(ack: Callable[[str], None]) -> None:
        with ProjectStore.open(folder) as store:
            for k in range(count):
                frame_id, object_id = 1 + k % 2, tag * 1_000 + k
                if k % 3 == 2:
                    mask = np.zeros(FRAME_SIZE, bool)
                    mask[k % 40 : k % 40 + 12, 5:40] = True
                    store.set_mask(frame_id, object_id, mask, MaskProvenance.PAINTED, accepted=k % 2 == 0)
                    if k % 2:
                        store.accept_mask(frame_id, object_id)
                    ack(f"a {frame_id} {object_id}")
                else:
                    point = Point(float(k % 80), float(k % 64), PointKind.FOREGROUND, object_id)
                    ack(f"p {frame_id} {store.add_point(frame_id, point)}")

    return work


def _unseen(folder: Path, acks: list[str]) -> Callable:
    """A fresh instance reopening the project: reports how many of `acks` it does not see."""

    def work(ack: Callable[[str], None]) -> None:
        missing = 0
        with ProjectStore.open(folder) as store:
            for line in acks:
                kind, frame, name = line.split(" ")
                if kind == "p":
                    missing += int(name) not in store.points(int(frame))
                else:
                    mask = store.masks(int(frame)).get(int(name))
                    missing += mask is None or not mask.accepted
        ack(f"L {missing}")

    return work


def run_two_apps(index: int, workdir: Path) -> Outcome:
    """Two instances add points and accept masks on the same frames at once; in every third case one is killed
    (SIGKILL) after a random number of edits. Then each instance reopens the project: it must see every edit
    the other acknowledged, and its own, in an intact database."""
    rng = rng_for("two_apps", index)
    folder = project_copy(workdir, f"apps_{index}")
    count = int(rng.integers(20, 80))
    children = [_child(_instance(folder, tag, count)) for tag in (1, 2)]
    killed = index % 3 == 0
    lines: dict[int, list[str]] = {}
    for tag, (pid, fd) in enumerate(children, start=1):
        if killed and tag == 1:
            lines[tag] = _read_lines(fd, until=int(rng.integers(0, count)))
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        lines[tag] = lines.get(tag, []) + _read_lines(fd)
        os.close(fd)
    errors = [line for tag in lines for line in lines[tag] if line.startswith("E ")]
    if any(e.startswith("E crash") for e in errors):
        return Outcome("crash", errors[0])
    acks = {tag: [line for line in lines[tag] if not line.startswith("E ")] for tag in lines}
    lost = 0
    for tag in (1, 2):  # each instance reopens and looks for the other's edits, then its own
        pid, fd = _child(_unseen(folder, acks[3 - tag] + acks[tag]))
        answer = _read_lines(fd)
        os.close(fd)
        os.waitpid(pid, 0)
        if not answer or not answer[0].startswith("L "):
            return Outcome("clear" if answer and answer[0].startswith("E clear") else "crash",
                           answer[0] if answer else "the reopening instance died")
        lost += int(answer[0].split()[1])
    _, damage = _missing(folder, [])
    if damage:
        return Outcome("wrong", damage, lost)
    detail = f"{sum(map(len, acks.values()))} edits" + (", one instance killed" if killed else "")
    return Outcome("clear" if errors else "ok", errors[0][8:200] if errors else detail, lost)
