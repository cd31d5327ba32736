"""*Propose* on a frame: the frame model's map (here a stored prediction) becomes a draft mask; without a model
and without a prediction there is nothing to propose."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from core.annotation.tags import FrameTag
from core.project.store import ProjectStore
from core.runtime.metrics import dice
from core.serving.frame_model import ModelProvider
from core.serving.propose import propose_for_frame
from core.training.synthetic import make_frame


def test_propose_turns_the_frames_map_into_a_draft_and_needs_one(tmp_path: Path) -> None:
    frame = make_frame(5, (64, 80))
    cv2.imwrite(str(tmp_path / "f.png"), frame.image)
    store = ProjectStore.create(tmp_path / "project")
    provider = ModelProvider(new_pool=lambda: ThreadPoolExecutor(1))
    try:
        frame_id = store.add_frames([tmp_path / "f.png"])[0].id
        store.set_tag([frame_id], FrameTag.NODULE)
        assert propose_for_frame(provider, store, frame_id) is None  # no model named, nothing stored
        soft = cv2.GaussianBlur(frame.mask.astype(np.float32), (0, 0), 2.0)
        store.set_prediction(frame_id, soft, "test")
        for method in ("threshold", "graphcut"):
            draft = propose_for_frame(provider, store, frame_id, method)
            assert draft is not None and draft.shape == frame.mask.shape
            assert dice(draft, frame.mask) > 0.8, method
    finally:
        provider.close()
        store.close()
