import os
import signal
import threading
from pathlib import Path

import cv2
import pytest

from core.annotation.caliper_simulation import calipers_from_label_map
from core.learning.background_trainer import BackgroundTrainer, prune_runs
from core.learning.job_process import JobState
from core.learning.versions import MODEL_PATH_KEY
from core.project.store import ProjectStore
from core.training.synthetic import make_frame
from models.checkpoint import save_checkpoint
from models.unet import UNet, UNetSpec
from tests.conftest import EventLog


@pytest.fixture()
def project(tmp_path):
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for seed in range(12):
        cv2.imwrite(str(frames_dir / f"f{seed}.png"), make_frame(seed, size=(96, 112)).image)
    store = ProjectStore.create(tmp_path / "project")
    records = store.add_frames(sorted(frames_dir.glob("*.png")))
    for seed, record in enumerate(records[:10]):  # 10 labelled: 5 to learn from, 5 held out to judge by
        store.set_calipers(record.id, 0, calipers_from_label_map(make_frame(seed, size=(96, 112)).labels)[0])
    yield store, tmp_path / "project"
    store.close()


def run_trainer(store, folder, **kwargs):
    events, outcomes, done = EventLog(), [], threading.Event()
    kwargs = {"epochs": 2, **kwargs}
    trainer = BackgroundTrainer(store, folder, events, lambda o: (outcomes.append(o), done.set()),
                                minutes=None, preset="tiny", resolution=64, **kwargs)
    return trainer, events, outcomes, done


def test_training_reports_progress_and_becomes_the_live_version(project):
    store, folder = project
    trainer, events, outcomes, done = run_trainer(store, folder, keep_runs=1)
    assert trainer.start()
    assert not trainer.start()  # never two at once
    assert done.wait(120)
    outcome = outcomes[0]
    assert outcome.exit.state == JobState.FINISHED, outcome.exit.reason
    assert any(e.get("event") == "progress" for e in events)
    assert any(e.get("event") == "data" and e["validated_on"] == "held-out caliper labels" for e in events)
    assert outcome.version is not None and trainer.registry.path_of(outcome.version).exists()
    # switched in only when clearly better than no model on the 5 held-out frames (2 epochs may not be)
    assert outcome.switched == outcome.version.beats_baseline() and outcome.version.n_val == 5
    assert outcome.version.baseline == "no model" and len(outcome.version.frame_scores) == 5
    trainer.registry.pin(outcome.version.name)
    assert trainer.registry.current().name == outcome.version.name

    # a second run fine-tunes the live model and is scored against it on the same frames
    done.clear()
    assert trainer.start()
    assert done.wait(120)
    second = outcomes[1]
    assert second.exit.state == JobState.FINISHED, second.exit.reason
    assert second.version.baseline_val_dice is not None
    assert [v.name for v in trainer.registry.versions()] == ["v0001", "v0002"]
    # only the newest run folder is kept (keep_runs=1); both versions live on in models/
    assert [p for p in (folder / "runs").iterdir()] == [trainer.run_dir]
    assert all(trainer.registry.path_of(v).exists() for v in trainer.registry.versions())


def test_a_killed_trainer_is_reported_and_the_project_is_untouched(project):
    store, folder = project
    before = {r.id: store.calipers(r.id) for r in store.frames()}
    trainer, events, outcomes, done = run_trainer(store, folder)
    trainer.epochs = 200
    assert trainer.start()
    assert events.first.wait(60), "the child never reported"  # it is really training
    os.kill(trainer.pid, signal.SIGKILL)
    assert done.wait(60)
    outcome = outcomes[0]
    assert outcome.exit.state == JobState.FAILED and "SIGKILL" in outcome.exit.reason
    assert outcome.version is None and trainer.registry.current() is None
    assert {r.id: store.calipers(r.id) for r in store.frames()} == before


def test_a_cancelled_run_leaves_no_folder_and_no_version(project):
    store, folder = project
    outcomes, training, done = [], threading.Event(), threading.Event()

    def on_event(event: dict) -> None:
        if event.get("event") == "progress" or event.get("state") == JobState.TRAINING:
            training.set()

    trainer = BackgroundTrainer(store, folder, on_event, lambda o: (outcomes.append(o), done.set()), minutes=None,
                                epochs=200, preset="tiny", resolution=64)
    assert trainer.start()
    assert trainer.run_dir.is_dir()
    assert training.wait(120)
    trainer.cancel()
    assert done.wait(60)
    assert outcomes[0].exit.state == JobState.CANCELLED and outcomes[0].version is None
    assert not trainer.run_dir.exists() and list((folder / "runs").iterdir()) == []
    assert trainer.registry.current() is None


def test_old_run_folders_are_pruned_but_never_the_active_one(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    names = ["20260101-000000-000001", "20260102-000000-000000", "20260103-000000-000000",
             "20260104-000000-000000", "20260105-000000-000000"]
    for name in names:
        (runs / name / "snapshot").mkdir(parents=True)
    (runs / "notes.txt").write_text("not a run")
    active = runs / names[0]  # e.g. a run that is still going

    deleted = prune_runs(runs, keep=2, active=active)
    assert deleted == [runs / n for n in names[1:3]]
    assert sorted(p.name for p in runs.iterdir()) == [names[0], *names[3:], "notes.txt"]
    assert prune_runs(runs, keep=2, active=active) == [] and prune_runs(tmp_path / "missing", keep=1) == []


def run_report(tmp_path: Path, name: str, noc: list[float], noc_in_use: list[float]) -> dict:
    path = save_checkpoint(tmp_path / f"{name}.safetensors", UNet(UNetSpec(widths=(4, 8))), {"note": name})
    return {"checkpoint": str(path), "val_dice": 0.5, "baseline_val_dice": 0.5, "n_val": len(noc),
            "frame_scores": noc, "baseline_frame_scores": noc_in_use, "lower_is_better": True,
            "validated_on": "accepted masks"}


def test_a_run_that_wins_on_two_lucky_frames_is_kept_but_only_a_clear_win_goes_live(project, tmp_path):
    store, folder = project
    registry = BackgroundTrainer(store, folder, lambda e: None, lambda o: None).registry
    in_use = [6, 6, 5, 7, 6, 8]
    lucky, switched = BackgroundTrainer._register(registry, run_report(tmp_path, "lucky", [1, 2, 5, 7, 6, 8], in_use))
    assert not switched and registry.in_use().source == "none" and lucky in registry.versions()
    clear, switched = BackgroundTrainer._register(registry, run_report(tmp_path, "clear", [4, 5, 3, 5, 6, 6], in_use))
    assert switched and registry.in_use().version == clear.name

    users_own = save_checkpoint(tmp_path / "mine.safetensors", UNet(UNetSpec(widths=(4, 8))), {})
    store.set_setting(MODEL_PATH_KEY, str(users_own))
    better, switched = BackgroundTrainer._register(registry, run_report(tmp_path, "best", [1, 1, 1, 1, 1, 1], in_use))
    assert not switched and better.beats_baseline() and store.path_setting(MODEL_PATH_KEY) == users_own
