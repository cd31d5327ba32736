"""Self-training in the mixed-supervision task: after the configured share of the epochs (and again every
`self_training_every` epochs), each frame tagged "nodule present" alone trains towards the largest part of the
network's own mask; frames it calls empty stay tags, and masks, negatives and the caller's frames are left as they
were."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import core.training.tag_task as tag_task
from core.training.tag_data import TagFrame
from core.training.tag_task import TagTask, TagTrainConfig
from models.tag_losses import MASK, NO_NODULE, NODULE, PSEUDO, KindWeights, mixed_loss
from models.tag_net import TagNet
from models.unet import UNet, spec_from_preset

R = 32


def _frames() -> list[TagFrame]:
    rng = np.random.default_rng(0)
    mask = np.zeros((R, R), bool)
    mask[10:20, 10:20] = True
    image = lambda: rng.integers(0, 255, (R, R), dtype=np.uint8)  # noqa: E731
    return [TagFrame("m", image(), MASK, mask, mask), TagFrame("n", image(), NO_NODULE),
            TagFrame("t1", image(), NODULE), TagFrame("t2", image(), NODULE)]


def _predictions(net: TagNet, images: list[np.ndarray], norm: object, device: str = "cpu") -> tuple:
    """A network that sees two blobs on the first tagged frame and nothing on the second."""
    first = np.zeros((R, R), np.float32)
    first[2:6, 2:6] = 0.9  # small part
    first[12:24, 12:24] = 0.8  # larger part
    maps = [first, np.full((R, R), 0.3, np.float32)][:len(images)]
    return maps, maps, np.ones(len(images), np.float32)


def test_tagged_frames_get_their_own_masks_largest_part_once_at_the_set_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tag_task, "tag_predictions", _predictions)
    frames = _frames()
    task = TagTask(frames, TagTrainConfig(epochs=10, self_training_at=0.5, self_training_every=0, tags_wait=False,
                                          resolution=R, seed=0))
    task.build(torch.device("cpu"), rank=0)
    assert not task.refresh_targets(4, None)  # before half-way: nothing
    assert task.refresh_targets(5, None)
    kinds = [f.kind for f in task.frames]
    assert kinds == [MASK, NO_NODULE, PSEUDO, NODULE]
    expected = np.zeros((R, R), bool)
    expected[12:24, 12:24] = True
    assert np.array_equal(task.frames[2].label, expected)
    assert [f.kind for f in frames] == [MASK, NO_NODULE, NODULE, NODULE]  # the caller's frames are untouched
    assert not task.refresh_targets(6, None)  # once only


def test_without_self_training_no_frame_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tag_task, "tag_predictions", _predictions)
    task = TagTask(_frames(), TagTrainConfig(epochs=10, resolution=R, seed=0, self_training_at=0.0))
    task.build(torch.device("cpu"), rank=0)
    assert not any(task.refresh_targets(e, None) for e in range(1, 10))


def test_self_training_is_the_default_only_for_a_mix_of_masks_and_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tag_task, "tag_predictions", _predictions)
    mixed, tags_only = _frames(), _frames()[1:]  # without the mask the tags must train by their own terms
    assert TagTask(mixed, TagTrainConfig(epochs=10)).self_training
    task = TagTask(tags_only, TagTrainConfig(epochs=10, resolution=R, seed=0))
    assert not task.self_training
    task.build(torch.device("cpu"), rank=0)
    assert {task.streams.draw() for _ in range(200)} == {0, 1, 2}  # the tagged frames are drawn from the start
    assert not any(task.refresh_targets(e, None) for e in range(1, 10))


def test_a_minutes_budget_self_trains_once_its_share_of_the_time_has_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tag_task, "tag_predictions", _predictions)
    clock = [100.0]
    monkeypatch.setattr(tag_task.time, "perf_counter", lambda: clock[0])
    task = TagTask(_frames(), TagTrainConfig(epochs=None, minutes=2.0, self_training_at=0.5, resolution=R, seed=0))
    task.build(torch.device("cpu"), rank=0)
    clock[0] += 59.0
    assert not task.refresh_targets(3, None)
    clock[0] += 1.0
    assert task.refresh_targets(4, None)


def test_a_pseudo_frame_trains_like_a_mask_at_its_own_weight() -> None:
    torch.manual_seed(0)
    net = TagNet(UNet(spec_from_preset("tiny")))
    x = torch.randn(2, 1, R, R)
    labels = torch.zeros(2, 1, R, R)
    labels[:, :, 8:20, 8:20] = 1.0
    with torch.no_grad():
        out = net(x)
        as_mask = mixed_loss(net, x, out, torch.tensor([MASK, MASK]), labels)
        as_pseudo = mixed_loss(net, x, out, torch.tensor([PSEUDO, PSEUDO]), labels, KindWeights(pseudo=1.0))
        half = mixed_loss(net, x, out, torch.tensor([PSEUDO, PSEUDO]), labels)
    assert torch.allclose(as_pseudo["pseudo"], as_mask["mask"])
    assert torch.allclose(half["pseudo"], 0.5 * as_mask["mask"])


def test_waiting_tags_are_not_drawn_until_they_have_their_own_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tag_task, "tag_predictions", _predictions)
    frames = _frames()
    task = TagTask(frames, TagTrainConfig(epochs=10, self_training_at=0.5, tags_wait=True, resolution=R, seed=0,
                                          negative_share=None))
    task.build(torch.device("cpu"), rank=0)
    before = {task.streams.draw() for _ in range(200)}
    assert before == {0, 1}  # the mask and the negative; both tagged frames wait
    assert task.refresh_targets(5, None)
    after = {task.streams.draw() for _ in range(400)}
    assert after == {0, 1, 2}  # the frame that got a mask joins; the one called empty still waits


def test_repeated_self_training_remakes_the_tagged_frames_masks_every_set_epochs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def growing(net: TagNet, images: list[np.ndarray], norm: object, device: str = "cpu") -> tuple:
        calls.append(len(images))
        size = 4 + 4 * len(calls)  # each round's network sees a larger nodule
        maps = []
        for _ in images:
            m = np.zeros((R, R), np.float32)
            m[2:2 + size, 2:2 + size] = 0.9
            maps.append(m)
        return maps, maps, np.ones(len(images), np.float32)

    monkeypatch.setattr(tag_task, "tag_predictions", growing)
    task = TagTask(_frames(), TagTrainConfig(epochs=10, self_training_at=0.5, self_training_every=2, resolution=R,
                                             seed=0))
    task.build(torch.device("cpu"), rank=0)
    assert [task.refresh_targets(e, None) for e in range(1, 10)] == [False] * 4 + [True, False, True, False, True]
    assert calls == [2, 2, 2]  # both tagged frames each time, also once they hold a mask of their own
    assert [f.kind for f in task.frames] == [MASK, NO_NODULE, PSEUDO, PSEUDO]
    assert task.frames[2].label.sum() == 16 ** 2  # the third round's mask
    assert task.frames[0].label.sum() == 100  # the accepted mask is never remade



def test_flip_averaging_keeps_where_the_frame_and_its_mirror_image_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the frame as given the network sees columns 4-13; on its mirror image, mirrored back, columns 8-13:
    the averaged map (0.4 / 0.8) is nodule on 8-13 alone, where without averaging it would be 4-13."""
    calls: list[list[np.ndarray]] = []

    def two_views(net: TagNet, images: list[np.ndarray], norm: object, device: str = "cpu") -> tuple:
        calls.append(images)
        m = np.zeros((R, R), np.float32)
        if len(calls) == 1:
            m[8:20, 4:14] = 0.8
        else:  # the mirrored frames: columns R-14..R-9 here are 8..13 on the frame
            m[8:20, R - 14:R - 8] = 0.8
        maps = [m.copy() for _ in images]
        return maps, maps, np.ones(len(images), np.float32)

    monkeypatch.setattr(tag_task, "tag_predictions", two_views)
    frames = _frames()
    task = TagTask(frames, TagTrainConfig(epochs=10, self_training_at=0.5, self_training_every=0, tags_wait=False,
                                          self_training_flip=True, resolution=R, seed=0))
    task.build(torch.device("cpu"), rank=0)
    assert task.refresh_targets(5, None)
    assert len(calls) == 2 and np.array_equal(calls[1][0], frames[2].image[:, ::-1])
    expected = np.zeros((R, R), bool)
    expected[8:20, 8:14] = True
    assert [f.kind for f in task.frames] == [MASK, NO_NODULE, PSEUDO, PSEUDO]
    assert np.array_equal(task.frames[2].label, expected) and np.array_equal(task.frames[3].label, expected)
