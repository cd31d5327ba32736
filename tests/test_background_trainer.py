import os
import signal
import threading

import cv2
import pytest

from core.annotation.caliper_simulation import calipers_from_label_map
from core.learning.background_trainer import BackgroundTrainer
from core.learning.job_process import JobState
from core.project.store import ProjectStore
from core.training.synthetic import make_frame
from tests.conftest import EventLog


@pytest.fixture()
def project(tmp_path):
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for seed in range(8):
        cv2.imwrite(str(frames_dir / f"f{seed}.png"), make_frame(seed, size=(96, 112)).image)
    store = ProjectStore.create(tmp_path / "project")
    records = store.add_frames(sorted(frames_dir.glob("*.png")))
    for seed, record in enumerate(records[:6]):
        store.set_calipers(record.id, 0, calipers_from_label_map(make_frame(seed, size=(96, 112)).labels)[0])
    yield store, tmp_path / "project"
    store.close()


def run_trainer(store, folder, **kwargs):
    events, outcomes, done = EventLog(), [], threading.Event()
    trainer = BackgroundTrainer(store, folder, events, lambda o: (outcomes.append(o), done.set()),
                                minutes=None, epochs=2, preset="tiny", resolution=64, **kwargs)
    return trainer, events, outcomes, done


def test_training_reports_progress_and_becomes_the_live_version(project):
    store, folder = project
    trainer, events, outcomes, done = run_trainer(store, folder)
    assert trainer.start()
    assert not trainer.start()  # never two at once
    assert done.wait(120)
    outcome = outcomes[0]
    assert outcome.exit.state == JobState.FINISHED, outcome.exit.reason
    assert any(e.get("event") == "progress" for e in events)
    assert any(e.get("event") == "data" and e["validated_on"] == "held-out caliper labels" for e in events)
    assert outcome.version is not None and outcome.switched
    assert trainer.registry.current().name == outcome.version.name
    assert trainer.registry.path_of(outcome.version).exists()

    # a second run fine-tunes the live model and is scored against it on the same frames
    done.clear()
    assert trainer.start()
    assert done.wait(120)
    second = outcomes[1]
    assert second.exit.state == JobState.FINISHED, second.exit.reason
    assert second.version.baseline_val_dice is not None
    assert [v.name for v in trainer.registry.versions()] == ["v0001", "v0002"]


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
