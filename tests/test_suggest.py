import cv2
import numpy as np

from core.annotation.points import Calipers
from core.learning.suggest import rank_unlabelled, uncertainty
from core.project.store import ProjectStore


def blob(p_inside: float, blur: float = 0.0) -> np.ndarray:
    prob = np.full((100, 100), 0.02, np.float32)
    prob[30:70, 30:70] = p_inside
    return cv2.GaussianBlur(prob, (0, 0), blur) if blur else prob


def test_crisp_prediction_is_less_uncertain_than_a_fuzzy_one_or_none():
    crisp, fuzzy, nothing = blob(0.98), blob(0.6, blur=6), np.full((100, 100), 0.3, np.float32)
    assert uncertainty(crisp) < uncertainty(fuzzy) < uncertainty(nothing)


def test_ranking_skips_labelled_frames_and_puts_unpredicted_last(tmp_path):
    for k in range(4):
        cv2.imwrite(str(tmp_path / f"{k}.png"), np.full((100, 100), 60 + k, np.uint8))
    store = ProjectStore.create(tmp_path / "project")
    ids = [r.id for r in store.add_frames(sorted(tmp_path.glob("*.png")))]
    store.set_prediction(ids[0], blob(0.98), "v1")
    store.set_prediction(ids[1], blob(0.6, blur=6), "v1")
    store.set_prediction(ids[2], blob(0.9, blur=3), "v1")
    store.set_calipers(ids[2], 0, Calipers((30, 50), (70, 50), (50, 35), (50, 65)))  # labelled: not suggested
    ranked = [frame_id for frame_id, _ in rank_unlabelled(store)]
    assert ranked == [ids[1], ids[0], ids[3]]
    store.close()
