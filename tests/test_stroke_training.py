"""The background trainer's data from a project's sparse labels: scribbles and boxes from the store reach the
snapshot and become confident pixels at the working resolution (boxes: outside is background, the core nodule,
the box the location label), points are confident discs, and frames with strokes but no calipers or mask get
the interactive engine's mask as their pseudo-label; such a project trains through partial CE. Synthetic
frames."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.annotation.points import Point, PointKind
from core.annotation.sparse_simulation import object_boxes
from core.annotation.strokes import Stroke, StrokeKind
from core.learning.background_trainer import BackgroundTrainer
from core.learning.job_process import JobState
from core.learning.mixed_supervision import to_training_frame
from core.learning.snapshot import read_snapshot, write_snapshot
from core.learning.stroke_targets import stroke_labels
from core.project.store import ProjectStore
from core.runtime.metrics import iou
from core.training.frame_task import FrameTask, TrainConfig
from core.training.loop import run_training
from core.training.synthetic import make_frame
from models.preprocess import crop_resize
from tests.conftest import EventLog

SIZE = (120, 140)
RESOLUTION = 64


def _along(mask: np.ndarray) -> tuple[tuple[float, float], ...]:
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean(), ys.mean()
    values, vectors = np.linalg.eigh(np.cov(np.stack([xs - cx, ys - cy])))
    dx, dy = vectors[:, -1] * 1.2 * np.sqrt(values[-1])
    return ((cx - dx, cy - dy), (cx, cy), (cx + dx, cy + dy))


@pytest.fixture
def project(tmp_path: Path):
    """Four frames: a nodule scribble and a background scribble; a box; a single point; nothing."""
    folder = tmp_path / "frames"
    folder.mkdir()
    frames = [make_frame(seed, size=SIZE, contrast=0.5) for seed in range(4)]
    for k, f in enumerate(frames):
        cv2.imwrite(str(folder / f"f{k}.png"), f.image)
    store = ProjectStore.create(tmp_path / "project")
    records = store.add_frames(sorted(folder.glob("*.png")))
    store.add_stroke(records[0].id, Stroke(StrokeKind.SCRIBBLE, _along(frames[0].mask), True, 3.0))
    store.add_stroke(records[0].id, Stroke(StrokeKind.SCRIBBLE, ((2.0, 2.0), (40.0, 2.0)), False, 3.0))
    x0, y0, x1, y1 = object_boxes(frames[1].mask)[0]
    store.add_stroke(records[1].id, Stroke(StrokeKind.BOX, ((x0 - 3.0, y0 - 3.0), (x1 + 3.0, y1 + 3.0))))
    ys, xs = np.nonzero(frames[2].mask)
    store.add_point(records[2].id, Point(float(np.median(xs)), float(np.median(ys)), PointKind.FOREGROUND, 0))
    yield store, tmp_path, frames, records
    store.close()


def _work(mask: np.ndarray, frame) -> np.ndarray:
    return crop_resize(mask.astype(np.uint8), frame.box, RESOLUTION, nearest=True) > 0


def test_stroke_labels_at_frame_resolution() -> None:
    scribble = Stroke(StrokeKind.SCRIBBLE, ((10.0, 10.0), (30.0, 10.0)), True, 3.0)
    across = Stroke(StrokeKind.SCRIBBLE, ((20.0, 0.0), (20.0, 30.0)), False, 1.0)
    box = Stroke(StrokeKind.BOX, ((5.0, 5.0), (40.0, 25.0)))
    labels = stroke_labels([scribble, across, box], (50, 60))
    assert labels.foreground[10, 10:31].sum() == 20 and not labels.foreground[10, 20]  # the crossing: neither
    assert not labels.background[10, 20] and labels.background[0, 20]
    assert labels.background[30:].all() and labels.background[:, 41:].all() and not labels.background[6:25, 6:19].any()
    assert labels.boxes == [(5, 5, 40, 25)]


def test_a_thin_scribble_on_a_large_frame_stays_a_continuous_line_at_working_resolution() -> None:
    from scipy import ndimage

    from core.learning.stroke_targets import add_stroke_targets

    image = np.full((600, 800), 120, np.uint8)
    diagonal = Stroke(StrokeKind.SCRIBBLE, ((100.0, 100.0), (700.0, 500.0)), True, 2.0)
    across = Stroke(StrokeKind.SCRIBBLE, ((50.0, 550.0), (750.0, 550.0)), False, 2.0)
    targets = np.zeros((4, 64, 64), np.uint8)
    add_stroke_targets(targets, [diagonal, across], image, (0, 0, 800, 600), 64)
    for channel in (0, 1):  # nearest-neighbour shrinking of the frame-resolution line left it dotted
        assert ndimage.label(targets[channel], np.ones((3, 3)))[1] == 1 and targets[channel].sum() >= 45
    assert targets[0][10, 8] and targets[0][53, 56] and targets[1][58, 4:60].all()


def test_a_projects_strokes_and_points_reach_the_training_targets(project) -> None:
    store, tmp_path, frames, records = project
    snapshot = write_snapshot(store, tmp_path / "snap")
    entries = {e.frame_id: e for e in read_snapshot(snapshot)}
    assert set(entries) == {r.id for r in records[:3]}  # the unlabelled frame is left out
    assert [len(entries[r.id].strokes) for r in records[:3]] == [2, 1, 0]
    assert entries[records[0].id].drawn_strokes() == list(store.strokes(records[0].id).values())
    assert "strokes" not in json.loads(snapshot.read_text())["frames"][2]  # none: the format older readers know

    scribbled = to_training_frame(snapshot, entries[records[0].id], RESOLUTION)
    fg, bg, location, pseudo = scribbled.targets > 0
    truth = _work(frames[0].mask, scribbled)
    assert fg.sum() >= 5 and (fg & truth).sum() >= 0.9 * fg.sum()  # a 3 px stroke is 1.5 px wide here
    assert bg.sum() > 5 and not (bg & truth).any() and not (fg & bg).any()
    assert iou(pseudo, truth) > 0.6  # the engine's mask from the scribbles

    boxed = to_training_frame(snapshot, entries[records[1].id], RESOLUTION)
    fg, bg, location, pseudo = boxed.targets > 0
    truth = _work(frames[1].mask, boxed)
    assert location.any() and not (bg & location).any() and (bg | location).all()  # outside the box: background
    assert fg.any() and (fg & truth).sum() >= 0.9 * fg.sum()  # the box's core
    assert iou(pseudo, truth) > 0.6

    pointed = to_training_frame(snapshot, entries[records[2].id], RESOLUTION)
    fg, bg, location, pseudo = pointed.targets > 0
    truth = _work(frames[2].mask, pointed)
    assert fg.any() and (fg & truth).sum() >= 0.9 * fg.sum()  # the point's disc
    assert not pseudo.any()  # a lone click's engine mask is no pseudo-label
    assert (scribbled.pseudo_known, boxed.pseudo_known, pointed.pseudo_known) == (True, True, False)


def test_sparse_labels_alone_train_through_partial_ce(project, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    store, _, _, _ = project
    snapshot = write_snapshot(store, tmp_path / "snap")
    frames = [to_training_frame(snapshot, e, RESOLUTION) for e in read_snapshot(snapshot)]
    cfg = TrainConfig(supervision="calipers", preset="tiny", resolution=RESOLUTION, epochs=2, batch_size=3,
                      lr=1e-2, threads=1, device="cpu", step_event_every=1)
    events = []
    result = run_training(FrameTask(frames, [], cfg), tmp_path / "model.safetensors", on_event=events.append)
    assert result.epochs == 2 and (tmp_path / "model.safetensors").exists()
    steps = [e for e in events if e.kind == "step"]
    assert steps and all("partial_ce" in e.losses and "pseudo_dice" in e.losses for e in steps)
    assert all(np.isfinite(list(e.losses.values())).all() for e in steps)


def test_a_held_out_stroke_frame_is_scored_against_the_engines_mask_from_its_strokes(project) -> None:
    store, tmp_path, frames, records = project
    snapshot = write_snapshot(store, tmp_path / "snap")
    entries = {e.frame_id: e for e in read_snapshot(snapshot)}
    for record, frame in zip(records[:2], frames):  # the scribbled and the boxed frame
        held_out = to_training_frame(snapshot, entries[record.id], RESOLUTION, for_validation=True)
        assert held_out.truth_full.shape == frame.mask.shape and iou(held_out.truth_full, frame.mask) > 0.6


def test_a_frame_with_only_a_point_is_never_taught_an_empty_mask(project, tmp_path: Path) -> None:
    """Its empty pseudo channel is no label: the batch says so and the pseudo-label terms leave it out."""
    store, _, _, records = project
    snapshot = write_snapshot(store, tmp_path / "snap")
    entries = {e.frame_id: e for e in read_snapshot(snapshot)}
    frames = [to_training_frame(snapshot, entries[r.id], RESOLUTION) for r in records[:3]]
    cfg = TrainConfig(supervision="calipers", preset="tiny", resolution=RESOLUTION, batch_size=3, threads=1,
                      device="cpu")
    task = FrameTask(frames, [], cfg)
    _, net = task.build(torch.device("cpu"), 0)
    x, batch = task.batch([0, 1, 2])
    assert batch["pseudo_known"].tolist() == [True, True, False]
    x, batch = task.batch([2])
    assert "pseudo_dice" not in net(x, batch) and "partial_ce" in net(x, batch)
    assert "pseudo_known" not in task.batch([0, 1])[1]


def test_the_background_trainer_learns_from_a_project_with_only_sparse_labels(project) -> None:
    store, tmp_path, _, _ = project
    events, outcomes, done = EventLog(), [], threading.Event()
    trainer = BackgroundTrainer(store, tmp_path / "project", events, lambda o: (outcomes.append(o), done.set()),
                                minutes=None, epochs=1, preset="tiny", resolution=RESOLUTION)
    assert trainer.start()
    assert done.wait(180)
    assert outcomes[0].exit.state == JobState.FINISHED, outcomes[0].exit.reason
    assert any(e.get("event") == "data" and e["n_train"] == 3 for e in events)
    losses = [e["losses"] for e in events if e.get("event") == "progress" and e.get("network") == "frame"]
    assert losses and all("partial_ce" in terms for terms in losses)  # weak supervision, not masks
    assert all("prsa" in terms for terms in losses)  # a scribble or a point without a mask: PRSA by default


def test_prsa_is_on_for_scribbles_and_single_points_without_a_mask_unless_told_otherwise(project) -> None:
    import argparse

    from core.commands.train_project import _prsa_weight, add_arguments

    store, tmp_path, frames, records = project
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    entries = {e.frame_id: e for e in read_snapshot(write_snapshot(store, tmp_path / "snap"))}
    scribbled, boxed, pointed = (entries[r.id] for r in records[:3])
    default = parser.parse_args(["--snapshot", "s", "--out", "o"])
    assert _prsa_weight(default, [scribbled]) == _prsa_weight(default, [pointed]) == 0.1
    assert _prsa_weight(default, [pointed, boxed]) == 0.1
    assert _prsa_weight(default, [boxed]) == 0.0  # boxes trained worse with it (README, "Benchmarks")
    assert _prsa_weight(parser.parse_args(["--snapshot", "s", "--out", "o", "--prsa", "0"]), [scribbled]) == 0.0
    store.set_mask(records[0].id, 0, frames[0].mask, "painted")  # accepted: the mask says it all
    masked = {e.frame_id: e for e in read_snapshot(write_snapshot(store, tmp_path / "snap2"))}[records[0].id]
    assert masked.has_mask and _prsa_weight(default, [masked]) == 0.0


def test_only_nodule_class_strokes_reach_the_nodule_models_snapshot(project) -> None:
    store, tmp_path, _, records = project
    gland = store.add_class("thyroid gland").id
    store.add_stroke(records[3].id, Stroke(StrokeKind.BOX, ((5.0, 5.0), (100.0, 90.0)), object_id=0))
    store.set_object_class(records[3].id, 0, gland)  # a gland's box: not a nodule label
    entries = {e.frame_id: e for e in read_snapshot(write_snapshot(store, tmp_path / "snap"))}
    assert records[3].id not in entries and len(entries[records[1].id].strokes) == 1


def test_with_a_click_network_scribbled_and_pointed_frames_get_its_mask_and_boxes_keep_the_engines(project) -> None:
    from tests.test_sparse_pseudo import DiscNetwork

    store, tmp_path, frames, records = project
    snapshot = write_snapshot(store, tmp_path / "snap")
    entries = {e.frame_id: e for e in read_snapshot(snapshot)}
    network = DiscNetwork(radius=6)
    scribbled, boxed, pointed = (to_training_frame(snapshot, entries[r.id], RESOLUTION, click_model=network)
                                 for r in records[:3])
    assert len(network.calls) >= 2  # the scribbled frame's clicks, then the pointed frame's
    for frame in (scribbled, pointed):
        fg, bg, _, pseudo = frame.targets > 0
        assert frame.pseudo_known and pseudo[fg].all() and not pseudo[bg].any()
        assert pseudo.sum() > fg.sum()  # the network's disc reaches beyond the labelled pixels
    engine = to_training_frame(snapshot, entries[records[1].id], RESOLUTION)
    assert np.array_equal(boxed.targets, engine.targets)  # a box gives no nodule pixel to click on


def test_a_frame_with_a_background_scribble_gets_the_region_between_its_strokes_and_a_pointed_frame_does_not(
        project) -> None:
    from core.interactive.sparse_pseudo import mask_from_labels
    from core.labels.between_strokes import region_between_strokes
    from tests.test_sparse_pseudo import DiscNetwork

    store, tmp_path, frames, records = project
    snapshot = write_snapshot(store, tmp_path / "snap")
    entries = {e.frame_id: e for e in read_snapshot(snapshot)}
    scribbled, pointed = (to_training_frame(snapshot, entries[r.id], RESOLUTION, click_model=DiscNetwork(radius=2))
                          for r in (records[0], records[2]))
    fg, bg, _, pseudo = scribbled.targets > 0
    region = region_between_strokes(scribbled.image, fg, bg)
    assert region.any() and (pseudo >= region).all()
    fg, bg, _, pseudo = pointed.targets > 0
    assert np.array_equal(pseudo, mask_from_labels(pointed.image, fg, bg, DiscNetwork(radius=2)))


def test_the_frame_round_takes_the_click_network_in_use_for_pseudo_labels_when_asked_and_a_frame_needs_it(
        project) -> None:
    import argparse

    from core.commands.train_project import _pseudo_click_model, add_arguments
    from tests.click_checkpoints import click_checkpoint

    store, tmp_path, frames, records = project
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    click = click_checkpoint(tmp_path / "click.safetensors", seed=0)
    entries = {e.frame_id: e for e in read_snapshot(write_snapshot(store, tmp_path / "snap"))}
    scribbled, boxed = entries[records[0].id], entries[records[1].id]
    with_click = parser.parse_args(["--snapshot", "s", "--out", "o", "--click-baseline", str(click),
                                    "--sparse-pseudo", "network"])
    assert _pseudo_click_model(with_click, [scribbled]) is not None
    assert _pseudo_click_model(with_click, [boxed]) is None  # boxes take the engine's mask
    no_click = parser.parse_args(["--snapshot", "s", "--out", "o", "--sparse-pseudo", "network"])
    assert _pseudo_click_model(no_click, [scribbled]) is None
    default = parser.parse_args(["--snapshot", "s", "--out", "o", "--click-baseline", str(click)])
    assert _pseudo_click_model(default, [scribbled]) is None  # the engine's mask unless asked
    store.set_mask(records[0].id, 0, frames[0].mask, "painted")
    masked = {e.frame_id: e for e in read_snapshot(write_snapshot(store, tmp_path / "snap2"))}[records[0].id]
    assert _pseudo_click_model(with_click, [masked]) is None  # an accepted mask needs no pseudo-label
