"""The model-free draft (core.labels.dark_blob), the click network's draft from its dark spot
(core.interactive.one_click_draft), and the tag trainer starting "nodule present" frames from them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import SonoClickError
from core.interactive.one_click_draft import one_click_draft, one_click_refinement
from core.labels.dark_blob import dark_blob, dark_spot
from core.labels.proposal import propose_mask
from core.runtime.metrics import dice
from core.training.tag_data import TagFrame
from core.training.tag_task import TagTask, TagTrainConfig
from models.tag_losses import MASK, NO_NODULE, NODULE, PSEUDO
from tests.test_tag_proposals import blob_frame


def _off_centre_frame(size: int, dark_centre: tuple[int, int], radius: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    image = rng.normal(150, 20, (size, size))
    rows, cols = np.mgrid[:size, :size]
    truth = (rows - dark_centre[0]) ** 2 + (cols - dark_centre[1]) ** 2 <= radius ** 2
    image[truth] = rng.normal(60, 12, int(truth.sum()))
    return np.clip(image, 0, 255).astype(np.uint8), truth


@pytest.mark.parametrize("size", [64, 160])
def test_the_dark_blob_outlines_a_dark_disc_at_any_resolution(size: int) -> None:
    image, truth = _off_centre_frame(size, (int(size * 0.55), int(size * 0.35)), size // 7)
    found = dark_blob(image)
    assert found.dtype == bool and found.shape == truth.shape
    assert dice(found, truth) > 0.8


def test_of_two_equal_discs_the_one_nearer_the_middle_wins() -> None:
    image, near = _off_centre_frame(96, (40, 48), 10)
    far = np.zeros_like(near)
    rows, cols = np.mgrid[:96, :96]
    far[(rows - 80) ** 2 + (cols - 12) ** 2 <= 100] = True
    image[far] = image[near].mean()
    found = dark_blob(image)
    assert (found & near).sum() > 0.8 * near.sum() and not (found & far).any()


def test_a_flat_frame_still_gets_a_draft_and_colour_is_refused() -> None:
    assert dark_blob(np.full((40, 40), 120, np.uint8)).any()
    with pytest.raises(ValueError, match="single-channel"):
        dark_blob(np.zeros((40, 40, 3), np.uint8))


def test_dark_blob_is_a_proposal_method_that_ignores_the_map() -> None:
    frame = blob_frame(5, True)
    assert np.array_equal(propose_mask(frame.image, None, "dark_blob"), dark_blob(frame.image))


def test_tag_start_dark_blob_drafts_the_tagged_frames_and_self_trains_them() -> None:
    frames = [blob_frame(1, True), blob_frame(2, False), blob_frame(3, True)]
    frames[0] = TagFrame("m", frames[0].image, MASK, frames[0].truth, frames[0].truth)
    task = TagTask(frames, TagTrainConfig(epochs=4, resolution=48, seed=0, tag_start="dark_blob"))
    assert [f.kind for f in task.frames] == [MASK, NO_NODULE, PSEUDO]
    assert np.array_equal(task.frames[2].label, dark_blob(frames[2].image))
    assert task.self_training and task.tagged == [2]
    assert [f.kind for f in frames] == [MASK, NO_NODULE, NODULE]  # the caller's frames are untouched
    task.build(torch.device("cpu"), rank=0)
    assert 2 in task.streams.pools[0] + task.streams.pools[1]  # drawn from the first epoch, not waiting


def test_tags_alone_self_train_when_drafted_and_not_otherwise() -> None:
    frames = [blob_frame(1, True), blob_frame(2, False)]
    assert TagTask(frames, TagTrainConfig(epochs=4, resolution=48, tag_start="dark_blob")).self_training
    assert not TagTask(frames, TagTrainConfig(epochs=4, resolution=48)).self_training
    with pytest.raises(ValueError, match="tag_start"):
        TagTask(frames, TagTrainConfig(epochs=4, resolution=48, tag_start="ellipse"))


def test_a_project_round_passes_tag_start_to_the_tag_trainer(tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    import argparse

    from core.annotation.tags import FrameTag
    from core.commands import train_project
    from core.learning.snapshot import write_snapshot
    from core.training.synthetic import make_frame
    from tests.conftest import synthetic_project

    configs = []
    real = train_project.train_from_tags

    def spy(frames, cfg, out, **kwargs):
        configs.append(cfg)
        return real(frames, cfg, out, **kwargs)

    monkeypatch.setattr(train_project, "train_from_tags", spy)
    store = synthetic_project(tmp_path, range(1, 5))
    ids = [r.id for r in store.frames()]
    store.set_mask(ids[0], 0, make_frame(1, (64, 80)).mask, "painted")
    store.set_tag(ids[1:], FrameTag.NODULE)
    snapshot = write_snapshot(store, tmp_path / "snap")
    store.close()
    parser = argparse.ArgumentParser()
    train_project.add_arguments(parser)
    args = parser.parse_args(["--snapshot", str(snapshot), "--out", str(tmp_path / "run"), "--epochs", "1",
                              "--preset", "tiny", "--resolution", "32", "--threads", "1", "--networks", "frame",
                              "--tag-start", "dark_blob"])
    train_project.run(args)
    assert [c.tag_start for c in configs] == ["dark_blob"]
    from core.training import tag_task
    monkeypatch.setattr(tag_task.ClickPredictor, "load", lambda path, threads=None: _DarkPixels())
    train_project.run(parser.parse_args(["--snapshot", str(snapshot), "--out", str(tmp_path / "run2"), "--epochs",
                                         "1", "--preset", "tiny", "--resolution", "32", "--threads", "1",
                                         "--networks", "frame", "--tag-start", "one_click", "--click-baseline",
                                         "in_use.safetensors", "--self-training-click"]))
    assert (configs[-1].tag_start, configs[-1].tag_click_model, configs[-1].self_training_click) == (
        "one_click", "in_use.safetensors", True)
    assert not configs[0].self_training_click
    with pytest.raises(SonoClickError, match="one_click"):  # refused before anything trains
        train_project.run(parser.parse_args(["--snapshot", str(snapshot), "--out", str(tmp_path / "run3"),
                                             "--tag-start", "dark_blob", "--self-training-click"]))
    assert len(configs) == 2 and not (tmp_path / "run3").exists()
    with pytest.raises(SystemExit):
        parser.parse_args(["--snapshot", "s", "--out", "o", "--tag-start", "ellipse"])
    capsys.readouterr()


class _DarkPixels:
    """A stand-in click network: nodule = the window's pixels darker than 100."""

    def predict(self, image, window, positives, negatives, prev_mask):
        return (window.take(image) < 100).astype(np.float32)


class _Silent:
    def predict(self, image, window, positives, negatives, prev_mask):
        return np.zeros(window.shape, np.float32)


def test_the_dark_spot_lies_inside_the_disc() -> None:
    image, truth = _off_centre_frame(96, (60, 30), 12)
    row, col = dark_spot(image)
    assert truth[row, col]


def test_the_one_click_draft_is_the_click_networks_answer_round_the_dark_spot() -> None:
    image, truth = _off_centre_frame(96, (60, 30), 12)
    image[5:15, 80:90] = 20  # a darker patch the network would also call nodule, apart from the clicked part
    draft = one_click_draft(image, _DarkPixels(), places=("dark_spot",))
    assert dice(draft, truth) > 0.9 and not draft[5:15, 80:90].any()
    assert np.array_equal(one_click_draft(image, _Silent()), dark_blob(image))  # nothing answered: the blob
    with pytest.raises(ValueError, match="places"):
        one_click_draft(image, _Silent(), places=("corner",))


class _SureOfTheMiddle:
    """A stand-in click network: a disc round the click, sure of it only where the click is near the middle."""

    def predict(self, image, window, positives, negatives, prev_mask):
        rows, cols = np.mgrid[window.y0:window.y1, window.x0:window.x1]
        x, y = positives[0]
        disc = (rows - y) ** 2 + (cols - x) ** 2 <= 64
        near_middle = abs(y - image.shape[0] * 0.45) < 5 and abs(x - image.shape[1] * 0.5) < 5
        return disc * (0.95 if near_middle else 0.6)


def test_of_the_two_places_the_answer_the_network_is_surer_of_is_kept() -> None:
    image, disc = _off_centre_frame(96, (75, 20), 10)  # the dark spot far from the middle
    draft = one_click_draft(image, _SureOfTheMiddle())
    rows, cols = np.nonzero(draft)
    assert abs(rows.mean() - 96 * 0.45) < 2 and abs(cols.mean() - 48) < 2
    spot_only = one_click_draft(image, _SureOfTheMiddle(), places=("dark_spot",))
    assert disc[tuple(np.round(np.argwhere(spot_only).mean(axis=0)).astype(int))]  # round the dark disc


def test_tag_start_one_click_drafts_with_the_given_click_network(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.training import tag_task

    loaded = []
    monkeypatch.setattr(tag_task.ClickPredictor, "load",
                        lambda path, threads=None: loaded.append(path) or _DarkPixels())
    frames = [blob_frame(1, True), blob_frame(2, False)]
    task = TagTask(frames, TagTrainConfig(epochs=4, resolution=48, tag_start="one_click", tag_click_model="c.st"))
    assert loaded == ["c.st"] and task.self_training
    assert task.frames[0].kind == PSEUDO
    assert np.array_equal(task.frames[0].label, one_click_draft(frames[0].image, _DarkPixels()))


def test_one_click_refinement_answers_the_models_largest_part_with_a_click_at_its_heart() -> None:
    image, truth = _off_centre_frame(96, (60, 30), 12)
    probability = np.zeros(image.shape, np.float32)
    probability[52:72, 30:50] = 0.8  # the model's mask: offset from the disc, its deepest point inside it
    probability[5:9, 80:84] = 0.9  # a smaller part elsewhere, never clicked
    refined = one_click_refinement(image, probability, _DarkPixels())
    assert dice(refined, truth) > dice(probability > 0.5, truth) + 0.2 and not refined[5:9, 80:84].any()
    assert not one_click_refinement(image, np.zeros_like(probability), _DarkPixels()).any()  # nothing to refine


def test_self_training_click_refines_the_networks_own_masks(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.training import tag_task

    monkeypatch.setattr(tag_task.ClickPredictor, "load", lambda path, threads=None: _DarkPixels())
    image, truth = _off_centre_frame(48, (30, 15), 6)
    own = np.zeros(image.shape, np.float32)
    own[26:36, 15:25] = 0.9
    monkeypatch.setattr(tag_task, "tag_predictions", lambda net, images, norm, device: ([own] * len(images), [], []))
    frames = [TagFrame("m", image, MASK, truth, truth), TagFrame("t", image, NODULE, None, truth)]
    refined = TagTask(frames, TagTrainConfig(epochs=4, resolution=48, tag_start="one_click", tag_click_model="c",
                                             self_training_click=True))
    plain = TagTask(frames, TagTrainConfig(epochs=4, resolution=48, tag_start="one_click", tag_click_model="c"))
    for task in (refined, plain):
        task.build(torch.device("cpu"), rank=0)
        assert task.refresh_targets(2, task.tag_net.unet)  # half of 4 epochs: due
    expected = one_click_refinement(image, own, _DarkPixels())
    assert [np.array_equal(refined.frames[i].label, expected) for i in refined.tagged] == [True]
    assert [np.array_equal(plain.frames[i].label, own > 0.5) for i in plain.tagged] == [True]
    with pytest.raises(ValueError, match="one_click"):
        TagTask(frames, TagTrainConfig(epochs=4, resolution=48, self_training_click=True))
