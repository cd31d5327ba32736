"""A mask from sparse labels (scribbles, single points) made by the click network, used as a training pseudo-label
(`train --sparse-pseudo network`): a simulated user clicks only on pixels it has labelled, each time on the largest
labelled part the mask shown so far gets wrong, as a user would turn a scribble into clicks.

Why the network and not the graph cut: on 40 DDTI training frames at 256 px the starter click network's mask from
simulated scribbles has Dice 0.764 against the truth, the engine's graph cut from the same strokes 0.614
(README, "Benchmarks")."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.annotation.clicks import Click
from core.interactive.click_network import ClickPredictor
from core.interactive.session import InteractionSession
from core.interactive.zoomed_start import zoomed_start_probability
from core.labels.between_strokes import region_between_strokes
from core.labels.proposal import largest_component

SOFT_OUTSIDE_CAP = 0.49  # below 0.5 also once stored as a byte (125 / 255)
MAX_CLICKS = 8  # on DDTI scribbles, 15 clicks gave Dice 0.770 against 8's 0.764, at twice the time


def next_click_on_labels(foreground: np.ndarray, background: np.ndarray, mask: np.ndarray,
                         positive_first: bool = False) -> Click | None:
    """A click on the largest connected part of the labelled pixels the mask gets wrong (nodule pixels outside
    it, background pixels inside it), at that part's pixel nearest its centroid; None when it gets none wrong.
    positive_first: only nodule pixels may be chosen (a first click must say where the object is)."""
    candidates: list[tuple[int, Click]] = []
    wrong = [(foreground & ~mask, True)] + ([] if positive_first else [(background & mask, False)])
    for region, positive in wrong:
        ys, xs = np.nonzero(largest_component(region))
        if len(xs):
            k = int(np.argmin((xs - xs.mean()) ** 2 + (ys - ys.mean()) ** 2))
            candidates.append((len(xs), Click(int(xs[k]), int(ys[k]), positive)))
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[0])[1]


def mask_from_labels(image: np.ndarray, foreground: np.ndarray, background: np.ndarray,
                     click_model: ClickPredictor, max_clicks: int = MAX_CLICKS,
                     probability: np.ndarray | None = None, between_strokes: bool = False,
                     soft: bool = False, zoomed_start: bool = False) -> np.ndarray:
    """The click network's mask from confident nodule / background pixels, made to honour them. probability: a
    frame model's nodule probability to start from (as the app starts from the prediction), else the first click
    goes on a nodule pixel. Only the parts of the mask that hold a nodule pixel are kept: the labels say nothing
    of the frame's other parts. between_strokes: the background labels are strokes drawn round the nodule; add the
    region the nodule labels claim half-way to them (core.labels.between_strokes). Empty when no pixel is labelled
    nodule. soft: a float32 map instead, the network's probability behind the mask (soft_pseudo_label), >= 0.5
    exactly where the mask is. zoomed_start: the first click's answer is asked over several window sizes and then
    zoomed (core.interactive.zoomed_start), and the clicks go on from it (from its average with `probability`
    when one is given)."""
    foreground, background = np.asarray(foreground, bool), np.asarray(background, bool)
    if not foreground.any():
        return np.zeros(foreground.shape, np.float32 if soft else bool)
    zoomed = None
    if zoomed_start:
        first = next_click_on_labels(foreground, background, np.zeros_like(foreground), positive_first=True)
        assert first is not None  # some pixel is labelled nodule
        zoomed = zoomed_start_probability(image, (first.x, first.y), click_model)
        probability = zoomed if probability is None else (probability + zoomed) / 2
    session = InteractionSession(image, probability=probability, click_model=click_model)
    mask = session.mask.copy()
    for _ in range(max_clicks):
        click = next_click_on_labels(foreground, background, mask, positive_first=not mask.any())
        if click is None:
            break
        mask = session.add_click(click.x, click.y, click.positive)
    mask = _parts_holding(mask | foreground, foreground)
    if between_strokes:
        mask |= region_between_strokes(image, foreground, background)
    mask &= ~background
    if not soft:
        return mask
    behind = session.network_probability
    return soft_pseudo_label(mask, zoomed if behind is None else behind, foreground, background)


def soft_pseudo_label(mask: np.ndarray, probability: np.ndarray | None, foreground: np.ndarray,
                      background: np.ndarray) -> np.ndarray:
    """The mask with the network's doubt kept: its probability, raised to 0.5 inside the mask and capped just
    under 0.5 outside it (so thresholding at 0.5 gives the mask back, stored as 0..255 too), 1 and 0 on the
    labelled pixels; the mask as 0 / 1 where no probability is known."""
    if probability is None:
        return mask.astype(np.float32)
    soft = np.where(mask, np.maximum(probability, 0.5), np.minimum(probability, SOFT_OUTSIDE_CAP)).astype(np.float32)
    soft[foreground] = 1.0
    soft[background] = 0.0
    return soft


def _parts_holding(mask: np.ndarray, labelled: np.ndarray) -> np.ndarray:
    parts, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    kept = np.unique(parts[labelled & mask])
    return np.isin(parts, kept[kept > 0])
