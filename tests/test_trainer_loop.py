"""The one training loop (core.training.loop) driving both tasks on synthetic frames: same seed, same weights;
stop signals, epoch and minute budgets (on an injected clock), the best checkpoint, progress events."""
import threading
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from core.annotation.caliper_simulation import calipers_from_label_map
from core.training.click_samples import ClickFrame
from core.training.click_task import ClickTask, ClickTrainConfig
from core.training.data import TrainingFrame
from core.training.frame_task import FrameTask, TrainConfig
from core.training.loop import TrainingTask, run_training
from core.training.progress import StopSignal, TrainEvent
from core.training.schedule import lr_factor
from core.training.synthetic import make_frame
from core.training.targets import caliper_targets, mask_targets
from models.checkpoint import read_metadata
from models.preprocess import content_box
from models.unet import UNet

torch.set_num_threads(1)
SIZE = 48  # frames are made at the working resolution, so no resizing is involved


def _frames(n: int, supervision: str = "masks", seed0: int = 0) -> list[TrainingFrame]:
    frames = []
    for k in range(n):
        f = make_frame(seed0 + k, size=(SIZE, SIZE), contrast=0.6)
        frame = TrainingFrame(str(k), f.image, content_box(f.image), f.image.shape, truth=f.mask)
        if supervision == "calipers":
            frame.calipers = calipers_from_label_map(f.labels)
            frame.targets = caliper_targets(f.image, frame.calipers)
        else:
            frame.targets = mask_targets(f.mask)
        frames.append(frame)
    return frames


def _cfg(**kw) -> TrainConfig:
    base = dict(supervision="masks", preset="tiny", resolution=SIZE, epochs=2, batch_size=4, lr=1e-2, threads=1,
                device="cpu", ema_decay=0.9, step_event_every=1)
    return TrainConfig(**{**base, **kw})


def _frame_task(seed: int) -> TrainingTask:
    return FrameTask(_frames(8, "calipers"), _frames(3, seed0=50), _cfg(supervision="calipers", seed=seed))


def _click_frame(seed: int) -> ClickFrame:
    f = make_frame(seed, size=(96, 112))
    return ClickFrame(str(seed), f.image, f.mask)


def _click_task(seed: int) -> TrainingTask:
    frames, val = [_click_frame(k) for k in range(8)], [_click_frame(99)]
    cfg = ClickTrainConfig(preset="tiny", resolution=32, epochs=2, batch_size=4, lr=1e-2, threads=1, device="cpu",
                           seed=seed, iterate_probability=0.5, step_event_every=1)
    return ClickTask(frames, val, cfg)


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _untimed(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in record.items() if k not in ("elapsed_s", "eta_s", "frames_per_s")}
            for record in history]


def _identical(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("make_task", [_frame_task, _click_task], ids=["frame", "click"])
def test_same_seed_gives_identical_weights(make_task, tmp_path: Path) -> None:
    runs = [run_training(make_task(seed), tmp_path / f"{k}.safetensors") for k, seed in enumerate((0, 0, 1))]
    assert _identical(_weights(runs[0].final_model), _weights(runs[1].final_model))
    assert _identical(load_file(runs[0].checkpoint), load_file(runs[1].checkpoint))
    assert _untimed(runs[0].history) == _untimed(runs[1].history)
    assert not _identical(_weights(runs[0].final_model), _weights(runs[2].final_model))  # the seed matters


def test_stop_request_from_another_thread_ends_the_run_at_the_next_step(tmp_path: Path) -> None:
    stop = StopSignal()

    def on_event(event: TrainEvent) -> None:
        if event.kind == "epoch" and event.epoch == 1:
            requester = threading.Thread(target=stop.request)
            requester.start()
            requester.join(timeout=10)

    task = FrameTask(_frames(8), _frames(2, seed0=50), _cfg(epochs=50))
    result = run_training(task, tmp_path / "m.safetensors", on_event, stop)
    assert result.stopped_by == "stop requested"
    assert (result.epochs, result.steps) == (1, 2)  # 8 frames in batches of 4: 2 steps per epoch
    assert result.checkpoint.exists()


def test_stop_file_stops_before_the_first_step_and_still_leaves_a_model(tmp_path: Path) -> None:
    (tmp_path / "STOP").touch()
    task = FrameTask(_frames(8), _frames(2, seed0=50), _cfg(epochs=None, minutes=10))
    result = run_training(task, tmp_path / "m.safetensors", stop=StopSignal(tmp_path / "STOP"))
    assert (result.stopped_by, result.steps, result.epochs) == ("stop requested", 0, 0)
    assert result.checkpoint.exists()


def test_epoch_budget(tmp_path: Path) -> None:
    result = run_training(FrameTask(_frames(10), [], _cfg(epochs=3)), tmp_path / "m.safetensors")
    assert (result.stopped_by, result.epochs, result.steps) == ("epochs", 3, 6)  # 10 frames: 2 full batches
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert result.history[-1]["lr"] == pytest.approx(1e-2 * lr_factor(5 / 6, 0.03))  # the last step's


class _FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _TimedTask(FrameTask):
    """Each training step takes 15 s on the fake clock, the report-only monitor 1000 s."""

    def __init__(self, clock: _FakeClock, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock

    def batch(self, indices: list[int]) -> tuple:
        self.clock.now += 15.0
        return super().batch(indices)

    def monitor(self, model: UNet) -> float | None:
        self.clock.now += 1000.0
        return super().monitor(model)


def test_minute_budget_on_an_injected_clock_leaves_out_the_monitor(tmp_path: Path) -> None:
    clock = _FakeClock()
    task = _TimedTask(clock, _frames(8), _frames(2, seed0=50), _cfg(epochs=None, minutes=1.0),
                      monitor_frames=_frames(2, seed0=60))
    result = run_training(task, tmp_path / "m.safetensors", clock=clock)
    assert (result.stopped_by, result.steps, result.epochs) == ("time budget", 4, 2)
    assert result.seconds == 60.0  # the two monitor passes (2000 s) are not charged
    first = result.history[0]
    assert (first["elapsed_s"], first["eta_s"]) == (30.0, 30.0)
    assert first["monitor_dice"] is not None
    # the schedule spans the minutes: the second step's batch was ready 30 s into the 60 s
    assert first["lr"] == pytest.approx(1e-2 * lr_factor(0.5, 0.03))


class _ScriptedValidation(FrameTask):
    """Validation figures from a script; remembers the EMA weights each one was given for."""

    def __init__(self, figures: list[float], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.figures, self.seen = list(figures), []

    def validate(self, model: UNet) -> float | None:
        self.seen.append(_weights(model))
        return self.figures.pop(0)


def test_the_checkpoint_holds_the_best_epoch_not_the_last(tmp_path: Path) -> None:
    task = _ScriptedValidation([0.3, 0.8, 0.5], _frames(8), _frames(2, seed0=50), _cfg(epochs=3))
    events: list[TrainEvent] = []
    result = run_training(task, tmp_path / "m.safetensors", events.append)
    assert (result.best_val_dice, result.best_epoch) == (0.8, 2)
    metrics = read_metadata(result.checkpoint)["metrics"]
    assert (metrics["val_dice"], metrics["epoch"], metrics["step"]) == (0.8, 2, 4)
    saved = load_file(result.checkpoint)
    assert _identical(saved, task.seen[1]) and not _identical(saved, task.seen[2])
    assert [e.best_val_dice for e in events if e.kind == "epoch"] == [0.3, 0.8, 0.8]


def test_without_validation_the_first_and_the_last_epoch_are_saved(tmp_path: Path) -> None:
    out = tmp_path / "m.safetensors"
    saved_at: list[int] = []

    def on_event(event: TrainEvent) -> None:
        if event.kind == "epoch" and out.exists():
            saved_at.append(read_metadata(out)["metrics"]["epoch"])

    result = run_training(FrameTask(_frames(8), [], _cfg(epochs=3)), out, on_event)
    assert saved_at == [1, 1, 3] and result.best_epoch == 3 and result.best_val_dice is None
    assert _identical(load_file(out), _weights(result.final_model))


def test_progress_events_in_order(tmp_path: Path) -> None:
    events: list[TrainEvent] = []
    task = FrameTask(_frames(12), _frames(2, seed0=50), _cfg(epochs=2, step_event_every=2))
    result = run_training(task, tmp_path / "m.safetensors", events.append)
    assert [(e.kind, e.step) for e in events] == [("start", 0), ("step", 2), ("epoch", 3), ("step", 4),
                                                  ("step", 6), ("epoch", 6), ("done", 6)]
    epochs = [e for e in events if e.kind == "epoch"]
    assert [e.epoch for e in epochs] == [1, 2] and epochs[-1].eta_s == 0.0
    assert all("total" in e.losses and e.frames_per_s > 0 and e.val_dice is not None for e in epochs)
    assert [h["step"] for h in result.history] == [3, 6]
    assert events[-1].best_val_dice == result.best_val_dice


def test_click_task_reports_its_own_figure_in_the_checkpoint(tmp_path: Path) -> None:
    events: list[TrainEvent] = []
    result = run_training(_click_task(0), tmp_path / "c.safetensors", events.append)
    meta = read_metadata(result.checkpoint)
    assert meta["task"] == "interactive" and meta["metrics"]["val_iou_3_clicks"] == result.best_val_dice
    assert [e.kind for e in events].count("step") == result.steps == 4


def test_warm_up_then_cosine() -> None:
    assert lr_factor(0.0, 0.1) == 0.02  # never a zero learning rate
    assert lr_factor(0.05, 0.1) == pytest.approx(0.5)
    assert lr_factor(0.1, 0.1) == pytest.approx(1.0)
    assert lr_factor(0.55, 0.1) == pytest.approx(0.5)
    assert lr_factor(1.0, 0.1) == pytest.approx(0.0)
