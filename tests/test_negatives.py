"""Frames without a nodule as negatives: background-everywhere targets (dataset tags, project tags, the click
network's samples), nodule-free crops that never touch the nodule, and the next-frame suggestion skipping
"no nodule" frames."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.annotation.points import Calipers
from core.annotation.tags import FrameTag
from core.io.dataset import list_dataset
from core.learning.click_round import click_frames, split_held_out
from core.learning.mixed_supervision import to_training_frame
from core.learning.snapshot import has_nodule_labels, read_snapshot, write_snapshot
from core.learning.suggest import rank_unlabelled
from core.training.click_samples import ClickFrame, make_sample
from core.training.negative_slots import NegativeSlots
from core.training.negatives import grown_nodule, nodule_crops, nodule_free_crops
from core.training.synthetic import make_frame
from core.training.tag_data import crop_negatives, load_tag_frames, read_frame_classes, relabel
from core.training.targets import TARGET_CHANNELS, negative_targets
from models.preprocess import Normalisation
from models.tag_losses import MASK, NO_NODULE, NODULE
from tests.conftest import synthetic_project, train_project_round

NODULE_CALIPERS = Calipers((20.0, 30.0), (50.0, 30.0), (35.0, 22.0), (35.0, 38.0))


def _background_everywhere(targets: np.ndarray) -> None:
    channel = dict(zip(TARGET_CHANNELS, targets))
    assert not channel["fg"].any() and channel["bg"].all()
    assert not channel["location"].any() and not channel["pseudo"].any()


def test_negative_targets_are_confident_background_everywhere() -> None:
    _background_everywhere(negative_targets((12, 9)))


@pytest.fixture
def project(tmp_path: Path):
    store = synthetic_project(tmp_path, range(1, 5), nodule_free=(3, 4))
    ids = [r.id for r in store.frames()]
    yield store, ids
    store.close()


def test_no_nodule_frames_enter_the_snapshot_as_negatives(tmp_path: Path, project) -> None:
    store, ids = project
    store.set_tag([ids[2], ids[3]], FrameTag.NO_NODULE)
    only_negatives = read_snapshot(write_snapshot(store, tmp_path / "first"))
    assert sorted(e.frame_id for e in only_negatives) == ids[2:] and all(e.no_nodule for e in only_negatives)
    assert not has_nodule_labels(only_negatives)  # nothing says where a nodule is: no training yet
    store.set_calipers(ids[0], 0, NODULE_CALIPERS)
    snapshot = write_snapshot(store, tmp_path / "second")
    entries = {e.frame_id: e for e in read_snapshot(snapshot)}
    assert has_nodule_labels(list(entries.values())) and not entries[ids[0]].no_nodule
    negative = to_training_frame(snapshot, entries[ids[2]], 32)
    _background_everywhere(negative.targets)
    assert negative.truth is not None and not negative.truth.any() and negative.no_nodule
    kept = to_training_frame(snapshot, entries[ids[0]], 32)
    assert kept.targets[0].any() and not kept.no_nodule  # the caliper frame keeps its labels


def test_the_click_network_trains_on_negatives_but_never_scores_on_them(tmp_path: Path, project) -> None:
    store, ids = project
    store.set_tag([ids[3]], FrameTag.NO_NODULE)
    snapshot = write_snapshot(store, tmp_path / "snap")
    frames = click_frames(snapshot, read_snapshot(snapshot))
    assert len(frames) == 1 and not frames[0].truth.any()
    planes, target = make_sample(frames[0], np.random.default_rng(0), 32, Normalisation())
    assert planes.shape == (4, 32, 32) and not target.any()
    assert planes[2].any() and not planes[1].any()  # a negative click on the false blob, no positive one
    truth = np.zeros((40, 40), bool)
    truth[10:20, 10:20] = True
    nodules = [ClickFrame(str(k), np.zeros((40, 40), np.uint8), truth) for k in range(12)]
    train, held_out = split_held_out(nodules + frames, seed=0)
    assert held_out and all(f.truth.any() for f in held_out) and frames[0] in train
    assert split_held_out(nodules[:9] + frames, seed=0)[1] == []  # a negative never counts towards holding out


def test_negatives_fill_at_most_their_share_of_an_epoch_each_drawn_once_before_any_twice() -> None:
    negative = [i % 3 == 0 for i in range(30)]  # 10 negatives among 30 frames: a natural share of a third
    slots = NegativeSlots(negative, 0.1)
    assert slots.size == 20 + 2  # every nodule frame once, 2 / 22 of the epoch for the negatives
    with pytest.raises(RuntimeError, match="start"):  # a negative slot before a generator was given
        slots.frame(slots.size - 1)
    slots.start(np.random.default_rng(0))
    drawn = [slots.frame(item) for _ in range(10) for item in range(slots.size)]
    nodule_frames = [f for f in drawn if not negative[f]]
    negatives = [f for f in drawn if negative[f]]
    assert sorted(nodule_frames) == sorted([i for i in range(30) if not negative[i]] * 10)
    assert len(negatives) == 20 and sorted(negatives[:10]) == sorted(negatives[10:]) == list(range(0, 30, 3))
    for share in (None, 0.5):  # no cap, or a cap above the natural share: every frame once, in the loop's order
        natural = NegativeSlots(negative, share)
        assert natural.size == 30 and [natural.frame(i) for i in range(30)] == list(range(30))
    assert NegativeSlots([False] * 5, 0.1).size == 5
    assert NegativeSlots([True, False, False], 0.1).size == 3  # at least one slot


def test_suggestion_skips_frames_tagged_no_nodule(project) -> None:
    store, ids = project
    before = [frame_id for frame_id, _ in rank_unlabelled(store)]
    assert before == ids
    store.set_tag([ids[1]], FrameTag.NO_NODULE)
    store.set_tag([ids[2]], FrameTag.NODULE)  # present but not outlined: still worth suggesting
    assert [frame_id for frame_id, _ in rank_unlabelled(store)] == [ids[0], ids[2], ids[3]]


@pytest.mark.parametrize("seed", range(12))
def test_nodule_free_crops_never_touch_the_grown_nodule(seed: int) -> None:
    frame = make_frame(seed, (180, 240))
    crops = nodule_free_crops(frame.image, frame.mask, 4, 32, np.random.default_rng(seed))
    assert crops, "a frame with room beside its nodule gives crops"
    grown = grown_nodule(frame.mask, 8)
    for crop in crops:
        x0, y0, x1, y1 = crop.box
        assert crop.image.shape == (32, 32) and x1 - x0 == y1 - y0
        assert not grown[y0:y1, x0:x1].any()
    again = nodule_free_crops(frame.image, frame.mask, 4, 32, np.random.default_rng(seed))
    assert [c.box for c in again] == [c.box for c in crops]


def test_a_nodule_filling_the_frame_leaves_no_crop() -> None:
    image = np.full((100, 100), 120, np.uint8)
    assert nodule_free_crops(image, np.ones((100, 100), bool), 3, 32, np.random.default_rng(0)) == []


def _dataset(root: Path, with_tags: bool) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for k in range(4):
        frame = make_frame(k, (96, 96), n_nodules=int(k < 2))
        cv2.imwrite(str(root / "images" / f"s{k}.png"), frame.image)
        cv2.imwrite(str(root / "masks" / f"s{k}.png"), frame.mask.astype(np.uint8) * 255)
    if with_tags:
        (root / "tags.csv").write_text("stem,class\ns0,benign\ns1,malignant\ns2,normal\ns3,normal\n")
    return root


def test_dataset_frames_tagged_normal_are_negatives_and_label_mixes_keep_them(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "busi_like", with_tags=True)
    frames = load_tag_frames(list_dataset(root), 32, read_frame_classes(root / "tags.csv"))
    assert [f.kind for f in frames] == [MASK, MASK, NO_NODULE, NO_NODULE]
    assert all(f.label is None and not f.truth.any() for f in frames[2:])
    mixed = relabel(frames, 1, tags=True, negatives=True, seed=0)
    assert sorted(f.kind for f in mixed) == [MASK, NO_NODULE, NO_NODULE, NODULE]
    assert [f.kind for f in relabel(frames, None, tags=False, negatives=False, seed=0)] == [MASK, MASK]


def test_a_dataset_without_negatives_gets_nodule_free_crops(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ddti_like", with_tags=False)
    crops = crop_negatives(list_dataset(root), 32, 2, seed=0)
    assert crops and all(f.kind == NO_NODULE and not f.truth.any() for f in crops)
    assert {f.stem.split("_crop")[0] for f in crops} <= {"s0", "s1"}  # only frames with a nodule are cropped


def test_nodule_crops_hold_the_nodule_centre_and_carry_its_mask() -> None:
    frame = make_frame(5, (160, 200), n_nodules=1)
    ys, xs = np.nonzero(frame.mask)
    centre = (xs.mean(), ys.mean())
    crops = nodule_crops(frame.image, frame.mask, 5, 32, np.random.default_rng(0))
    assert len(crops) == 5
    for crop in crops:
        x0, y0, x1, y1 = crop.box
        side = x1 - x0
        assert y1 - y0 == side and x0 + side // 4 <= centre[0] + 0.5 and centre[0] - 0.5 <= x1 - side // 4
        assert y0 + side // 4 <= centre[1] + 0.5 and centre[1] - 0.5 <= y1 - side // 4
        expected = cv2.resize(frame.mask[y0:y1, x0:x1].astype(np.uint8), (32, 32),
                              interpolation=cv2.INTER_NEAREST) > 0
        assert crop.image.shape == (32, 32) and np.array_equal(crop.mask, expected) and crop.mask.any()
    assert nodule_crops(frame.image, np.zeros_like(frame.mask), 2, 32, np.random.default_rng(0)) == []


def test_matched_nodule_crops_leave_the_negatives_as_they_were(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ddti_like", with_tags=False)
    plain = crop_negatives(list_dataset(root), 32, 2, seed=0)
    matched = crop_negatives(list_dataset(root), 32, 2, seed=0, with_nodule_crops=True)
    negatives = [f for f in matched if f.kind == NO_NODULE]
    assert [f.stem for f in negatives] == [f.stem for f in plain]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(negatives, plain))
    positives = [f for f in matched if f.kind == MASK]
    assert len(positives) == len(negatives) and all(f.zoomed and f.label.any() for f in positives)
    assert all(f.zoomed for f in negatives)
    assert all(f.zoomed for f in relabel(matched, None, tags=False, negatives=True, seed=0))


def test_a_project_with_nodule_tags_trains_the_mixed_task_and_makes_a_usable_model(tmp_path: Path, project,
                                                                                   capsys) -> None:
    from core.learning.tag_supervision import needs_tag_training, tag_frames
    from core.runtime.predictor import Predictor

    store, ids = project
    nodule = make_frame(1, (64, 80)).mask
    store.set_mask(ids[0], 0, nodule, "painted")  # accepted
    store.set_tag([ids[1]], FrameTag.NODULE)
    store.set_tag([ids[2], ids[3]], FrameTag.NO_NODULE)
    snapshot = write_snapshot(store, tmp_path / "snap")
    entries = read_snapshot(snapshot)
    assert needs_tag_training(entries) and [e.nodule_tag for e in entries] == [False, True, False, False]
    frames = tag_frames(entries, [to_training_frame(snapshot, e, 32) for e in entries])
    assert [f.kind for f in frames] == [MASK, NODULE, NO_NODULE, NO_NODULE] and frames[0].label.any()
    done = train_project_round(snapshot, tmp_path / "run", capsys)
    assert done["event"] == "done" and done["epochs"] == 1
    predictor = Predictor.load(done["checkpoint"], device="cpu", threads=1)
    assert predictor.predict(store.load_frame(ids[0]).gray_u8()).shape == nodule.shape


def test_a_false_positive_frame_predicts_nodule_on_at_least_one_percent_of_it() -> None:
    from core.training.tag_eval import false_positive_frames

    def predicted(pixels: int) -> np.ndarray:
        prob = np.zeros((100, 100), np.float32)
        prob.reshape(-1)[:pixels] = 0.9
        return prob

    assert false_positive_frames([predicted(100), predicted(99), predicted(0), predicted(5000)]) == 2
