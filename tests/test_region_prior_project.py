"""The background trainer on a project with thyroid-gland objects: accepted gland masks besides nodule masks give
a region-prior (TRFE-Net) version with both heads that predicts the nodule map as before; without gland objects,
or with only weak nodule labels, the plain network trains as it always did."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.annotation.caliper_simulation import calipers_from_label_map
from core.learning.background_trainer import BackgroundTrainer, TrainingOutcome
from core.learning.job_process import JobState
from core.learning.versions import FRAME
from core.project.store import ProjectStore
from core.runtime.predictor import Predictor
from core.training.synthetic import make_frame
from models.checkpoint import read_metadata
from tests.conftest import EventLog

SIZE = (96, 112)
N_FRAMES = 8


def _gland_around(nodule: np.ndarray) -> np.ndarray:
    """A gland: the band of rows around the nodule, wider than it."""
    rows = np.flatnonzero(nodule.any(1))
    gland = np.zeros_like(nodule)
    gland[max(0, rows[0] - 10):rows[-1] + 11, 4:-4] = True
    return gland


@pytest.fixture()
def project(tmp_path: Path) -> Iterator[tuple[ProjectStore, Path]]:
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for seed in range(N_FRAMES):
        cv2.imwrite(str(frames_dir / f"f{seed}.png"), make_frame(seed, size=SIZE).image)
    store = ProjectStore.create(tmp_path / "project")
    store.add_frames(sorted(frames_dir.glob("*.png")))
    yield store, tmp_path / "project"
    store.close()


def _label(store: ProjectStore, glands: bool, nodule_calipers: bool = False) -> None:
    """Frames 0-5 carry their nodule (a mask, or calipers); with `glands`, frames 0-3 also and frames 6-7 only
    carry an accepted gland mask."""
    gland_class = store.add_class("thyroid gland").id if glands else None
    for seed, record in enumerate(store.frames()):
        nodule = make_frame(seed, size=SIZE).mask
        if seed < 6 and nodule_calipers:
            store.set_calipers(record.id, 0, calipers_from_label_map(make_frame(seed, size=SIZE).labels)[0])
        elif seed < 6:
            store.set_mask(record.id, 0, nodule, "painted")
        if glands and (seed < 4 or seed >= 6):
            store.set_mask(record.id, 1, _gland_around(nodule), "painted")
            store.set_object_class(record.id, 1, gland_class)


def _train(store: ProjectStore, folder: Path) -> tuple[BackgroundTrainer, TrainingOutcome, EventLog]:
    events, outcomes, done = EventLog(), [], threading.Event()
    trainer = BackgroundTrainer(store, folder, events, lambda o: (outcomes.append(o), done.set()), minutes=None,
                                epochs=2, preset="tiny", resolution=64, networks=(FRAME,))
    trainer.threads = 1
    assert trainer.start()
    assert done.wait(180), "the training never finished"
    outcome = outcomes[0]
    assert outcome.exit.state == JobState.FINISHED, outcome.exit.reason
    assert outcome.version is not None
    return trainer, outcome, events


def test_gland_and_nodule_masks_give_a_region_prior_version_with_both_heads(project) -> None:
    store, folder = project
    _label(store, glands=True)
    trainer, outcome, events = _train(store, folder)
    data = next(e for e in events if e.get("event") == "data")
    assert data["n_gland"] == 6 and data["n_train"] + data["n_val"] == 6  # gland-only frames train no nodule map
    path = trainer.registry.path_of(outcome.version)
    meta = read_metadata(path)
    assert meta["heads"] == ["nodule", "thyroid gland"] and meta["task"] == "region_prior"
    assert meta["training"]["epochs"] == 2
    predictor = Predictor.load(path, device="cpu", threads=1)
    image = make_frame(0, size=SIZE).image
    maps = predictor.predict_classes(image)
    assert list(maps) == ["nodule", "thyroid gland"]
    assert np.array_equal(predictor.predict(image), maps["nodule"])  # serving's nodule map, as before
    # 6 nodule frames are fewer than a judged run needs (core.learning.better): all train, none is held out
    assert outcome.version.n_val == data["n_val"] == 0 and not outcome.switched


def test_nodules_only_give_the_plain_network(project) -> None:
    store, folder = project
    _label(store, glands=False)
    trainer, outcome, events = _train(store, folder)
    meta = read_metadata(trainer.registry.path_of(outcome.version))
    assert "heads" not in meta and meta.get("task") != "region_prior"
    assert next(e for e in events if e.get("event") == "data")["n_gland"] == 0


def test_gland_masks_with_caliper_nodules_train_the_plain_network_and_say_why(project) -> None:
    store, folder = project
    _label(store, glands=True, nodule_calipers=True)
    trainer, outcome, _ = _train(store, folder)
    assert "heads" not in read_metadata(trainer.registry.path_of(outcome.version))
    assert "masks only" in outcome.exit.last_event["region_prior"]


def test_gland_masks_alone_start_no_training(project) -> None:
    store, folder = project
    gland_class = store.add_class("gland").id
    record = store.frames()[0]
    store.set_mask(record.id, 1, _gland_around(make_frame(0, size=SIZE).mask), "painted")
    store.set_object_class(record.id, 1, gland_class)
    trainer = BackgroundTrainer(store, folder, EventLog(), lambda o: None, networks=(FRAME,))
    assert not trainer.start()


def test_after_a_region_prior_version_a_plain_run_starts_afresh_and_is_scored_against_it(project) -> None:
    store, folder = project
    _label(store, glands=True)
    trainer, first, _ = _train(store, folder)
    trainer.registry.pin(first.version.name)  # in use: the next run is scored against it and would fine-tune it
    record = store.frames()[6]
    store.set_calipers(record.id, 0, calipers_from_label_map(make_frame(6, size=SIZE).labels)[0])
    events, outcomes, done = EventLog(), [], threading.Event()
    trainer._on_event, trainer._on_finished = events, lambda o: (outcomes.append(o), done.set())
    assert trainer.start()
    assert done.wait(180), "the training never finished"
    second = outcomes[0]
    assert second.exit.state == JobState.FINISHED, second.exit.reason  # a TRFE model is no plain warm start
    assert "heads" not in read_metadata(trainer.registry.path_of(second.version))
    assert second.version.baseline == f"version {first.version.name}"  # judged against the TRFE version in use
