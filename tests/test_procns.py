"""ProCNS's losses on hand-made tensors: PRSA's pairwise energy, prototypes and refinement, ANPM's mask and
its "when to start", and the soft pseudo-label's EMA."""
import numpy as np
import pytest
import torch

from core.training.pseudo_labels import EMA_NEW, PseudoLabelState, class_ious, should_start
from models.losses import LOSS_PRESETS
from models.procns import (
    class_prototypes,
    confidently_disagreeing,
    pairwise_energy,
    pairwise_weights,
    prsa_loss,
    sparse_loss,
)

H, W = 16, 20


def _halves() -> dict[str, torch.Tensor]:
    """A frame whose left half is bright (the nodule) and right half dark, features saying the same, one
    labelled column in each half."""
    left = torch.zeros(1, 1, H, W)
    left[..., : W // 2] = 1.0
    fg = torch.zeros(1, 1, H, W)
    fg[..., 3] = 1.0
    bg = torch.zeros(1, 1, H, W)
    bg[..., W - 4] = 1.0
    features = torch.cat([left, 1 - left], dim=1) * 3.0
    return {"intensity": left.clone(), "fg": fg, "bg": bg, "features": features, "left": left}


def test_prsa_is_zero_when_the_prediction_agrees_with_the_affinity() -> None:
    d = _halves()
    logits = torch.where(d["left"] > 0, 12.0, -12.0)
    energy, refined = prsa_loss(logits, d["features"], d["features"], d["fg"], d["bg"], d["intensity"])
    assert float(energy) < 1e-4
    assert torch.allclose(refined, d["left"], atol=1e-4)


def test_prsa_grows_when_the_prediction_cuts_through_a_uniform_region() -> None:
    d = _halves()
    logits = torch.full((1, 1, H, W), -12.0)
    logits[..., : W // 4] = 12.0  # stops half way across the bright half
    energy, _ = prsa_loss(logits, d["features"], d["features"], d["fg"], d["bg"], d["intensity"])
    assert float(energy) > 0.1


def test_prsa_gradient_reaches_unlabelled_pixels_only_and_not_the_prototypes() -> None:
    d = _halves()
    logits = torch.zeros(1, 1, H, W, requires_grad=True)
    features = d["features"].clone().requires_grad_(True)
    assert not class_prototypes(features, d["fg"], d["bg"], per_sample=True).requires_grad
    energy, _ = prsa_loss(logits, features, features, d["fg"], d["bg"], d["intensity"])
    energy.backward()
    labelled = (d["fg"] + d["bg"]) > 0
    assert logits.grad[labelled].abs().max() == 0
    assert logits.grad[~labelled].abs().max() > 0


def test_pairwise_energy_matches_the_sum_over_every_window_pair() -> None:
    gen = torch.Generator().manual_seed(0)
    h, w, r = 9, 11, 2
    intensity = torch.rand(1, 1, h, w, generator=gen)
    unlabelled = torch.rand(1, 1, h, w, generator=gen) > 0.3
    p = torch.rand(1, 1, h, w, generator=gen)
    total = 0.0
    for y in range(h):
        for x in range(w):
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    yy, xx = y + dy, x + dx
                    if (dy, dx) == (0, 0) or not (0 <= yy < h and 0 <= xx < w):
                        continue
                    if not (unlabelled[0, 0, y, x] and unlabelled[0, 0, yy, xx]):
                        continue
                    k = np.exp(-(dy * dy + dx * dx) / 72.0) * np.exp(
                        -float(intensity[0, 0, y, x] - intensity[0, 0, yy, xx]) ** 2 / 0.02)
                    a, b = float(p[0, 0, y, x]), float(p[0, 0, yy, xx])
                    total += k * (a * (1 - b) + (1 - a) * b)
    expected = total / float(unlabelled.sum())
    assert float(pairwise_energy(p, pairwise_weights(intensity, unlabelled, radius=r))) == pytest.approx(expected,
                                                                                                        rel=1e-4)


def test_anpm_masks_exactly_the_confidently_disagreeing_pixels() -> None:
    prob = torch.tensor([[[[0.9, 0.1, 0.6, 0.4, 0.95, 0.05]]]])
    pseudo = torch.tensor([[[[0.2, 0.8, 0.7, 0.3, 0.9, 0.1]]]])
    # pseudo says bg, net fg (0.9) | pseudo fg, net bg (0.1) | agree | agree | agree | agree
    both = confidently_disagreeing(prob, pseudo, (True, True))
    assert both.flatten().tolist() == [True, True, False, False, False, False]
    assert confidently_disagreeing(prob, pseudo, (False, True)).flatten().tolist() == [False, True] + [False] * 4
    assert confidently_disagreeing(prob, pseudo, (True, False)).flatten().tolist() == [True] + [False] * 5
    strict = confidently_disagreeing(torch.tensor([[[[0.6, 0.3]]]]), torch.tensor([[[[0.1, 0.9]]]]), (True, True),
                                     confidence=0.65)
    assert strict.flatten().tolist() == [False, True]


def _sparse_batch() -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    d = _halves()
    pseudo = d["left"].clone()
    batch = {"fg": d["fg"], "bg": d["bg"], "location": torch.zeros(1, 1, H, W), "pseudo": pseudo,
             "intensity": d["intensity"]}
    return batch, d["features"]


def test_noisy_pixels_leave_the_cross_entropies_and_are_supervised_by_the_dice_alone() -> None:
    batch, features = _sparse_batch()
    logits = torch.where(batch["pseudo"] > 0.5, 4.0, -4.0)
    logits[..., 0, 3] = -4.0  # a labelled nodule pixel the network confidently calls background
    logits[..., 5, 12] = 4.0  # an unlabelled background pixel it confidently calls nodule
    logits = logits.clone().requires_grad_(True)
    terms = sparse_loss(logits, features, features, batch, LOSS_PRESETS["procns"], anpm_enabled=(True, True))
    assert set(terms) >= {"partial_ce", "prsa", "pseudo_ce", "noisy_dice", "total"}
    ce = torch.autograd.grad(terms["partial_ce"] + terms["pseudo_ce"], logits, retain_graph=True)[0]
    dice = torch.autograd.grad(terms["noisy_dice"], logits)[0]
    noisy = torch.zeros(1, 1, H, W, dtype=torch.bool)
    noisy[..., 0, 3] = noisy[..., 5, 12] = True
    assert ce[noisy].abs().max() == 0 and ce[~noisy].abs().max() > 0
    assert dice[~noisy].abs().max() == 0 and dice[noisy].abs().max() > 0


def test_phase_one_has_no_pseudo_label_terms_and_partial_ce_alone_has_no_prsa() -> None:
    batch, features = _sparse_batch()
    logits = torch.zeros(1, 1, H, W)
    assert set(sparse_loss(logits, features, features, batch, LOSS_PRESETS["procns"])) == {
        "partial_ce", "prsa", "total"}
    assert set(sparse_loss(logits, features, features, batch, LOSS_PRESETS["partial-ce"])) == {"partial_ce", "total"}


def test_anpm_starts_once_the_iou_curve_flattens() -> None:
    epochs = np.arange(1, 13)
    saturating = list(0.9 * (1 - np.exp(-epochs / 1.5)))
    assert not should_start(saturating[:3])  # too few points to fit
    assert not should_start(saturating[:4])  # still rising steeply
    assert should_start(saturating)
    assert not should_start(list(0.05 * epochs))  # a straight rise never flattens


def test_pseudo_label_is_an_ema_of_the_predictions_and_iou_is_recorded_from_the_second_epoch() -> None:
    state = PseudoLabelState()
    first = np.full((4, 4), 0.9, np.float32)
    second = np.zeros((4, 4), np.float32)
    state.update([first])
    assert np.allclose(state.soft[0], first) and state.iou_history == ([], [])
    state.update([second])
    assert np.allclose(state.soft[0], EMA_NEW * second + (1 - EMA_NEW) * first)
    assert state.iou_history == ([0.0], [0.0])  # all background against an all-nodule pseudo-label
    assert class_ious(np.eye(2, dtype=bool), np.eye(2, dtype=bool)) == (1.0, 1.0)
