"""Replay an annotation session headlessly through the app's own parts (algorithms.md D's robot user in the
place of the clinician): a project store, the interactive engine, the background trainer and the model versions.
The dataset's masks only drive the simulated user and the scoring; what is stored and trained on is the engine's
final mask with its calipers and clicks, as in the app."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.annotation.caliper_simulation import calipers_from_label_map, jitter_calipers
from core.annotation.points import Calipers, Point, PointKind
from core.interactive.robot_user import next_click
from core.interactive.session import InteractionSession
from core.io.dataset import DatasetItem
from core.learning.background_trainer import BackgroundTrainer, TrainingOutcome
from core.learning.versions import USE_STARTER_KEY
from core.project.records import MaskProvenance
from core.project.store import ProjectStore
from core.runtime.metrics import dice, iou
from models.preprocess import DEFAULT_RESOLUTION

TARGET_IOU = 0.90
TRAIN_WAIT_LIMIT_S = 3600.0


@dataclass
class ReplayConfig:
    policy: str = "clicks"  # "calipers": four calipers then clicks; "clicks": accept the prediction or click
    retrain_every: int = 10
    minutes: float | None = 2.0  # per run: half for the frame model; the click network's steps, capped at all of it
    epochs: int | None = None  # the frame model's epochs (with minutes None: a reproducible run)
    click_steps: int = 100
    learning: bool = True
    starter: bool = True
    seed: int = 0
    threads: int = 1
    max_clicks: int = 20
    jitter_px: float = 3.0
    preset: str = "fast"
    resolution: int = DEFAULT_RESOLUTION
    networks: tuple[str, ...] = ("frame", "click")
    block: int = 10


@dataclass(frozen=True)
class ReplayFrame:
    stem: str
    image_path: Path
    image: np.ndarray  # (H, W) uint8
    truth: np.ndarray  # (H, W) bool


def replay_frames(items: list[DatasetItem], rng: np.random.Generator, n: int | None = None) -> list[ReplayFrame]:
    """The items in the order of one permutation drawn from rng, at most n of them; those whose mask is missing or
    empty are left out (there is nothing to outline)."""
    frames = []
    for i in rng.permutation(len(items)):
        truth = items[i].mask()
        if truth is None or not truth.any():
            continue
        frames.append(ReplayFrame(items[i].stem, items[i].image_path, items[i].frame().gray_u8(), truth))
        if n is not None and len(frames) >= n:
            break
    return frames


@dataclass
class FrameOutcome:
    stem: str
    clicks: int  # clicks to IoU 0.90 beyond the calipers (max_clicks when never reached)
    accepted_iou: float  # the accepted mask against the truth
    frame_dice: float | None  # the frame model's prediction against the truth, before the frame was labelled


@dataclass
class ReplayResult:
    frames: list[FrameOutcome] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    train_wait_s: float = 0.0

    def blocks(self, size: int) -> list[dict]:
        out = []
        for start in range(0, len(self.frames), size):
            part = self.frames[start:start + size]
            dices = [f.frame_dice for f in part if f.frame_dice is not None]
            out.append({"frames": f"{start + 1}-{start + len(part)}",
                        "clicks": round(float(np.mean([f.clicks for f in part])), 3),
                        "no_click_share": round(float(np.mean([f.clicks == 0 for f in part])), 3),
                        "accepted_iou": round(float(np.mean([f.accepted_iou for f in part])), 4),
                        "frame_dice": round(float(np.mean(dices)), 4) if dices else None})
        return out

    def last(self, n: int) -> list[FrameOutcome]:
        return self.frames[-n:]


class _ModelsInUse:
    """The frame model and click network the app would use now, loaded once per file."""

    def __init__(self, trainer: BackgroundTrainer, threads: int) -> None:
        self.trainer, self.threads = trainer, threads
        self._loaded: dict[Path, object] = {}

    def _load(self, path: Path | None, kind: str) -> object | None:
        if path is None:
            return None
        if path not in self._loaded:
            if kind == "click":
                from core.interactive.click_network import ClickPredictor

                self._loaded[path] = ClickPredictor.load(path, threads=self.threads)
            else:
                from core.runtime.predictor import Predictor

                self._loaded[path] = Predictor.load(path, device="cpu", threads=self.threads)
        return self._loaded[path]

    def frame_model(self) -> object | None:
        return self._load(self.trainer.registry.in_use().path, "frame")

    def click_model(self) -> object | None:
        return self._load(self.trainer.click_registry.in_use().path, "click")


def label_frame(frame: ReplayFrame, probability: np.ndarray | None, click_model: object | None, policy: str,
                cfg: ReplayConfig, rng: np.random.Generator) -> tuple[np.ndarray, object | None, list[Point], int]:
    """The simulated user on one frame: (accepted mask, calipers or None, click points, clicks beyond calipers)."""
    session = InteractionSession(frame.image, probability, click_model)  # type: ignore[arg-type]
    calipers = None
    if policy == "calipers":
        jittered = jitter_calipers(calipers_from_label_map(frame.truth)[0], cfg.jitter_px, rng).as_array()
        h, w = frame.truth.shape
        # the app only takes calipers on the frame: a hand near the edge stops at it
        calipers = Calipers.from_array(np.clip(jittered, 0, [w - 1, h - 1]))
        mask = session.set_calipers(calipers)
    else:
        mask = session.mask
    clicked = np.zeros(frame.truth.shape, bool)
    points: list[Point] = []
    while iou(mask, frame.truth) < TARGET_IOU and len(points) < cfg.max_clicks:
        click = next_click(frame.truth, mask, clicked)
        if click is None:
            break
        clicked[click.y, click.x] = True
        mask = session.add_click(click.x, click.y, click.positive)
        points.append(Point(click.x, click.y, PointKind.FOREGROUND if click.positive else PointKind.BACKGROUND))
    clicks = len(points) if iou(mask, frame.truth) >= TARGET_IOU else cfg.max_clicks
    return np.asarray(mask, bool), calipers, points, clicks


def store_accepted(store: ProjectStore, frame_id: int, mask: np.ndarray, calipers: object | None,
                   points: list[Point]) -> None:
    """As the app commits a frame: calipers, clicks and the engine's mask, accepted, in one store action."""
    with store.action("accept mask", frame_id):
        if calipers is not None:
            store.set_calipers(frame_id, 0, calipers)  # type: ignore[arg-type]
        for point in points:
            store.add_point(frame_id, point)
        provenance = MaskProvenance.REFINED if points or calipers is not None else MaskProvenance.GENERATED
        store.set_mask(frame_id, 0, mask, provenance, accepted=True)


class _RunWaiter:
    """The trainer's on_finished: hands the outcome of the run in progress to the replay that waits for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: TrainingOutcome | None = None

    def finished(self, outcome: TrainingOutcome) -> None:
        self.outcome = outcome
        self.done.set()


def _train(trainer: BackgroundTrainer, waiter: _RunWaiter, result: ReplayResult, log: Callable[[str], None]) -> None:
    """One background run; the replay waits for it (the wait is reported apart)."""
    waiter.done.clear()
    started = time.perf_counter()
    if not trainer.start():
        return
    if not waiter.done.wait(TRAIN_WAIT_LIMIT_S):
        trainer.cancel()
        raise TimeoutError("the background run did not finish within an hour")
    result.train_wait_s += time.perf_counter() - started
    outcome = waiter.outcome
    assert outcome is not None
    run = {"after_frames": len(result.frames), "state": outcome.exit.state.value, "reason": outcome.exit.reason}
    for name, version, switched in (("frame", outcome.version, outcome.switched),
                                    ("click", outcome.click_version, outcome.click_switched)):
        if version is not None:
            run[name] = {"version": version.name, "score": version.val_dice, "in_use_score": version.baseline_val_dice,
                         "n_val": version.n_val, "switched": switched, "why": version.judgement().reason}
    result.runs.append(run)
    log(f"[session] run after {len(result.frames)} frames: {run}")


def replay(frames: list[ReplayFrame], project_folder: Path, cfg: ReplayConfig,
           log: Callable[[str], None] = lambda text: None) -> ReplayResult:
    """Label `frames` in order as the simulated user, training after every cfg.retrain_every accepted frames."""
    rng = np.random.default_rng(cfg.seed)
    store = ProjectStore.create(project_folder)
    try:
        store.set_setting(USE_STARTER_KEY, cfg.starter)
        records = store.add_frames([f.image_path for f in frames])
        half = None if cfg.minutes is None else cfg.minutes / len(cfg.networks)
        waiter = _RunWaiter()
        trainer = BackgroundTrainer(store, project_folder, lambda event: None, waiter.finished,
                                    minutes=half, epochs=cfg.epochs, preset=cfg.preset, resolution=cfg.resolution,
                                    networks=cfg.networks, click_minutes=cfg.minutes, click_steps=cfg.click_steps)
        trainer.threads, trainer.seed = cfg.threads, cfg.seed
        models = _ModelsInUse(trainer, cfg.threads)
        result = ReplayResult()
        for frame, record in zip(frames, records):
            frame_model = models.frame_model()
            probability = None if frame_model is None else frame_model.predict(frame.image)  # type: ignore[attr-defined]
            mask, calipers, points, clicks = label_frame(frame, probability, models.click_model(), cfg.policy, cfg,
                                                         rng)
            store_accepted(store, record.id, mask, calipers, points)
            frame_dice = None if probability is None else float(dice(probability > 0.5, frame.truth))
            result.frames.append(FrameOutcome(frame.stem, clicks, float(iou(mask, frame.truth)), frame_dice))
            if len(result.frames) % cfg.block == 0:
                log(f"[session] {result.blocks(cfg.block)[-1]}")
            if cfg.learning and len(result.frames) % cfg.retrain_every == 0 and len(result.frames) < len(frames):
                _train(trainer, waiter, result, log)
        return result
    finally:
        store.close()
