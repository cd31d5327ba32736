"""Frame-level selection of pseudo-labels by the click network's sureness."""
import numpy as np
import pytest

from core.training.data import TrainingFrame
from core.training.pseudo_selection import keep_confident_pseudo, pseudo_confidence


def _frame(stem: str, sure: int, unsure: int) -> TrainingFrame:
    """A frame whose soft pseudo-label has `sure` pixels at 0.95 and `unsure` at 0.6 (the rest 0.3)."""
    pseudo = np.full(100, round(0.3 * 255), np.uint8)
    pseudo[:sure] = round(0.95 * 255)
    pseudo[sure:sure + unsure] = round(0.6 * 255)
    targets = np.zeros((4, 10, 10), np.uint8)
    targets[3] = pseudo.reshape(10, 10)
    return TrainingFrame(stem, np.zeros((10, 10), np.uint8), (0, 0, 10, 10), (10, 10), targets=targets)


def test_the_confidence_is_the_share_of_the_mask_the_network_is_sure_of() -> None:
    assert pseudo_confidence(_frame("a", 30, 10).targets[3]) == pytest.approx(0.75)
    assert np.isnan(pseudo_confidence(np.zeros((5, 5), np.uint8)))


def test_the_least_sure_pseudo_labels_are_dropped_and_the_others_hardened() -> None:
    frames = [_frame("a", 30, 10), _frame("b", 10, 30), _frame("c", 40, 0), _frame("d", 20, 20)]
    without = _frame("e", 0, 0)
    without.targets[3] = 0
    without.pseudo_known = False
    assert keep_confident_pseudo([*frames, without], 0.5) == 2
    assert [f.pseudo_known for f in frames] == [True, False, True, False]
    assert not frames[1].targets[3].any() and not frames[3].targets[3].any()
    for kept in (frames[0], frames[2]):
        assert set(np.unique(kept.targets[3])) == {0, 255}
    assert (frames[0].targets[3] == 255).sum() == 40  # the mask (>= 0.5) is kept whole, unsure pixels too
    assert not without.pseudo_known and not without.targets[3].any()


def test_keeping_everything_only_hardens_and_a_bad_fraction_is_refused() -> None:
    frames = [_frame("a", 30, 10), _frame("b", 10, 30)]
    assert keep_confident_pseudo(frames, 1.0) == 0
    assert all(f.pseudo_known and set(np.unique(f.targets[3])) == {0, 255} for f in frames)
    with pytest.raises(ValueError):
        keep_confident_pseudo(frames, 0.0)
