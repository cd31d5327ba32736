"""*Propose* on a frame: the frame model's map (here a stored prediction) becomes a draft mask; without a model
and without a prediction there is nothing to propose; a proposed object's engine session starts from its draft,
and after an undo of the proposal starts again from nothing; where the model's presence gate blanked the frame,
the segmenter's own map is proposed, and a map with nothing in it proposes nothing (not the whole frame)."""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.annotation.tags import FrameTag
from core.project.frame_edits import Commit, read_annotations
from core.project.records import MaskProvenance
from core.project.store import ProjectStore
from core.runtime.metrics import dice
from core.serving import frame_model, model_process
from core.serving.frame_loading import load_frame, sessions_after_history
from core.serving.frame_model import ModelProvider
from core.serving.propose import propose_object
from core.training.synthetic import SyntheticFrame, make_frame


@contextmanager
def _one_frame_project(tmp_path: Path, seed: int) -> Iterator[tuple[SyntheticFrame, ProjectStore, ModelProvider, int]]:
    """A project holding one synthetic frame, and a model provider with no model; both closed afterwards."""
    frame = make_frame(seed, (64, 80))
    cv2.imwrite(str(tmp_path / "f.png"), frame.image)
    store = ProjectStore.create(tmp_path / "project")
    provider = ModelProvider(new_pool=lambda: ThreadPoolExecutor(1))
    try:
        yield frame, store, provider, store.add_frames([tmp_path / "f.png"])[0].id
    finally:
        provider.close()
        store.close()


def test_propose_turns_the_frames_map_into_a_draft_and_needs_one(tmp_path: Path) -> None:
    with _one_frame_project(tmp_path, 5) as (frame, store, provider, frame_id):
        store.set_tag([frame_id], FrameTag.NODULE)
        loaded = load_frame(store, frame_id)
        assert propose_object(provider, store, loaded, 0, None) is None  # no model named, nothing stored
        soft = cv2.GaussianBlur(frame.mask.astype(np.float32), (0, 0), 2.0)
        store.set_prediction(frame_id, soft, "test")
        stored = np.asarray(store.prediction(frame_id).probability, np.float32)
        for method in ("threshold", "graphcut"):
            proposal = propose_object(provider, store, loaded, 0, stored, method=method)
            assert proposal is not None and proposal.mask.shape == frame.mask.shape
            assert dice(proposal.mask, frame.mask) > 0.8, method


def test_a_proposed_object_starts_its_session_from_the_draft_and_undo_forgets_it(tmp_path: Path) -> None:
    with _one_frame_project(tmp_path, 7) as (frame, store, provider, frame_id):
        loaded = load_frame(store, frame_id)
        assert propose_object(provider, store, loaded, 0, None) is None  # no map, no model named
        soft = cv2.GaussianBlur(frame.mask.astype(np.float32), (0, 0), 2.0)
        proposal = propose_object(provider, store, loaded, 0, soft)
        assert proposal is not None and proposal.answer is None and proposal.session is not None
        assert dice(proposal.mask, frame.mask) > 0.8 and np.array_equal(proposal.session.prior_mask, proposal.mask)
        nothing_else = propose_object(provider, store, loaded, 1, soft, taken=frame.mask)
        assert nothing_else is not None and not nothing_else.mask.any()  # the only nodule is drawn already

        started = {0: proposal.session.prior_mask}
        Commit(frame_id, draft_masks={0: (proposal.mask, MaskProvenance.GENERATED)}).apply(store)
        assert sessions_after_history(loaded, read_annotations(store, frame_id), started) == {}
        store.undo_step(frame_id)
        undone = sessions_after_history(loaded, read_annotations(store, frame_id), started)
        assert list(undone) == [0] and undone[0].prior_mask is None  # the next click starts from nothing
        store.redo_step(frame_id)
        redone = sessions_after_history(loaded, read_annotations(store, frame_id), {0: None})
        assert np.array_equal(redone[0].prior_mask, proposal.mask)


def test_propose_outlines_what_the_presence_gate_withheld(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    with _one_frame_project(tmp_path, 9) as (frame, store, provider, frame_id):
        soft = cv2.GaussianBlur(frame.mask.astype(np.float32), (0, 0), 2.0)

        def predict(model_path: str, image_u8: np.ndarray) -> tuple[np.ndarray, str, float | None, np.ndarray | None]:
            asked.append(model_path)
            return np.zeros(image_u8.shape, np.float32), "epoch 1", 0.2, soft  # the gate blanked what it saw

        monkeypatch.setattr(model_process, "predict", predict)
        loaded = load_frame(store, frame_id)
        blank = np.zeros(frame.mask.shape, np.float32)
        nothing = propose_object(provider, store, loaded, 0, blank)  # no model to ask again
        assert nothing is not None and not nothing.mask.any() and nothing.session is None  # not the whole frame
        model = tmp_path / "model.safetensors"
        model.write_bytes(b"read by the stand-in only")
        store.set_setting(frame_model.MODEL_SETTING, str(model))
        for probability in (None, blank):  # nothing stored yet; a stored prediction the gate blanked
            proposal = propose_object(provider, store, loaded, 0, probability)
            assert proposal is not None and dice(proposal.mask, frame.mask) > 0.8
            assert (proposal.answer is not None) == (probability is None)  # only a first answer is to be stored
            assert proposal.answer is None or not proposal.answer.probability.any()
        assert len(asked) == 2
        held = propose_object(provider, store, loaded, 0, soft)  # the map passed in (the editor's withheld one)
        assert held is not None and dice(held.mask, frame.mask) > 0.8 and len(asked) == 2


class _DarkPixelsClickModel:
    """A stand-in click network: nodule = the window's pixels darker than the frame's middle grey."""

    def predict(self, image, window, positives, negatives, prev_mask):
        return (window.take(image) < np.median(image)).astype(np.float32)


def test_without_a_frame_model_the_click_network_drafts_from_one_click(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    image = np.clip(rng.normal(150, 20, (96, 128)), 0, 255).astype(np.uint8)
    image[:, :24] = 0  # the black margin round the ultrasound image: darkest of all, never the spot
    rows, cols = np.mgrid[:96, :128]
    nodule = (rows - 50) ** 2 + (cols - 80) ** 2 <= 14 ** 2
    image[nodule] = 60
    cv2.imwrite(str(tmp_path / "f.png"), image)
    store = ProjectStore.create(tmp_path / "project")
    provider = ModelProvider(new_pool=lambda: ThreadPoolExecutor(1))
    try:
        frame_id = store.add_frames([tmp_path / "f.png"])[0].id
        loaded = load_frame(store, frame_id)
        loaded.click_model = _DarkPixelsClickModel()
        proposal = propose_object(provider, store, loaded, 0, None)
        assert proposal is not None and proposal.from_one_click and proposal.answer is None
        assert proposal.session is not None and np.array_equal(proposal.session.prior_mask, proposal.mask)
        assert dice(proposal.mask, nodule) > 0.9
        other = propose_object(provider, store, loaded, 1, None, taken=nodule)
        assert other is not None and not (other.mask & nodule).any()  # never over a drawn object
        assert not other.mask[:, :20].any()  # nor on the margin (content_box blurs its edge by a few pixels)
        stored = cv2.GaussianBlur(nodule.astype(np.float32), (0, 0), 2.0)
        assert not propose_object(provider, store, loaded, 0, stored).from_one_click  # a map wins
    finally:
        provider.close()
        store.close()
