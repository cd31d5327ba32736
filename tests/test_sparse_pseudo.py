"""The click network's mask from sparse labels: where the label-bound user clicks, and that the mask honours the
labels whatever the network answers."""
import numpy as np

from core.annotation.clicks import Click
from core.interactive.sparse_pseudo import mask_from_labels, next_click_on_labels, soft_pseudo_label
from core.labels.crop import Crop


class DiscNetwork:
    """A stand-in click network: probability 1 within `radius` of any positive click, 0 elsewhere."""

    def __init__(self, radius: float) -> None:
        self.radius = radius
        self.calls: list[tuple[int, int]] = []

    def predict(self, image_u8: np.ndarray, window: Crop, positives: np.ndarray, negatives: np.ndarray,
                prev_mask: np.ndarray | None) -> np.ndarray:
        self.calls.append((len(positives), len(negatives)))
        ys, xs = np.mgrid[window.y0:window.y1, window.x0:window.x1]
        near = np.zeros(window.shape, bool)
        for x, y in np.asarray(positives).reshape(-1, 2):
            near |= (xs - x) ** 2 + (ys - y) ** 2 <= self.radius ** 2
        return near.astype(np.float32)


def _labels() -> tuple[np.ndarray, np.ndarray]:
    fg = np.zeros((80, 80), bool)
    fg[40, 20:61] = True  # a horizontal nodule scribble
    bg = np.zeros((80, 80), bool)
    bg[25, 5:76] = True  # a background scribble above it
    return fg, bg


def test_the_click_goes_to_the_middle_of_the_largest_wrongly_shown_labelled_part() -> None:
    fg, bg = _labels()
    mask = np.zeros_like(fg)
    assert next_click_on_labels(fg, bg, mask, positive_first=True) == Click(40, 40, True)
    mask[:, :] = True  # everything shown: the background scribble (71 px) is the larger error
    assert next_click_on_labels(fg, bg, mask) == Click(40, 25, False)
    mask[:, :50] = False  # fg pixels 20-49 missed (30 px) beat bg pixels 50-75 shown (26 px)
    assert next_click_on_labels(fg, bg, mask) == Click(34, 40, True)
    assert next_click_on_labels(fg, bg, fg.copy()) is None


def test_a_first_click_is_never_negative() -> None:
    fg, bg = _labels()
    mask = np.ones_like(fg)
    assert next_click_on_labels(fg, bg, mask, positive_first=True) is None  # the nodule is shown: nothing to add
    assert next_click_on_labels(fg, bg, mask).positive is False


def test_the_mask_keeps_every_nodule_pixel_and_no_background_pixel() -> None:
    fg, bg = _labels()
    image = np.full(fg.shape, 100, np.uint8)
    network = DiscNetwork(radius=35)  # floods over the background scribble, and ignores negative clicks
    mask = mask_from_labels(image, fg, bg, network)
    assert mask[fg].all() and not mask[bg].any()
    assert network.calls[0] == (1, 0)  # one positive click first
    assert any(n > 0 for _, n in network.calls)  # then the flooded background scribble is clicked away
    assert mask[40, 40] and mask[55, 40]  # the network's answer is kept beyond the labelled pixels


def test_clicks_stop_once_the_network_agrees_with_the_labels() -> None:
    fg, bg = _labels()
    network = DiscNetwork(radius=12)  # the first disc misses the scribble's ends: clicks there complete it
    mask = mask_from_labels(np.full(fg.shape, 100, np.uint8), fg, bg, network)
    assert mask[fg].all() and not mask[bg].any()
    assert len(network.calls) == 3 and all(n == 0 for _, n in network.calls)


def test_a_start_from_a_prediction_keeps_only_the_parts_that_hold_a_nodule_label() -> None:
    fg, bg = _labels()
    probability = np.zeros(fg.shape, np.float32)
    probability[35:46, 15:66] = 0.9  # the labelled nodule, predicted
    probability[60:70, 60:70] = 0.9  # and a part elsewhere that no label speaks of
    network = DiscNetwork(radius=12)
    mask = mask_from_labels(np.full(fg.shape, 100, np.uint8), fg, bg, network, probability=probability)
    assert network.calls == []  # the prediction already agrees with every label: no click
    assert mask[fg].all() and mask[35:46, 15:66].all() and not mask[60:70, 60:70].any()


def test_no_nodule_pixel_no_mask_and_no_network_call() -> None:
    fg, bg = _labels()
    network = DiscNetwork(radius=5)
    mask = mask_from_labels(np.zeros(fg.shape, np.uint8), np.zeros_like(fg), bg, network)
    assert not mask.any() and network.calls == []


def test_with_strokes_drawn_round_it_the_mask_reaches_half_way_to_the_background_stroke() -> None:
    fg, bg = _labels()  # the background scribble 15 px above the nodule scribble
    image = np.full(fg.shape, 100, np.uint8)
    blob = mask_from_labels(image, fg, bg, DiscNetwork(radius=3))
    grown = mask_from_labels(image, fg, bg, DiscNetwork(radius=3), between_strokes=True)
    assert (grown >= blob).all() and not grown[bg].any()
    rows = np.nonzero(grown[:, 40])[0]
    assert rows.min() < 37 and rows.min() >= 31  # up towards the stroke at row 25, stopping about half-way


class GradedNetwork:
    """A stand-in click network whose probability falls off linearly from the first positive click: 1 there, 0.5
    at `radius`, 0 at twice it."""

    def __init__(self, radius: float) -> None:
        self.radius = radius

    def predict(self, image_u8: np.ndarray, window: Crop, positives: np.ndarray, negatives: np.ndarray,
                prev_mask: np.ndarray | None) -> np.ndarray:
        ys, xs = np.mgrid[window.y0:window.y1, window.x0:window.x1]
        x, y = np.asarray(positives, float).reshape(-1, 2)[0]
        distance = np.hypot(xs - x, ys - y)
        return np.clip(1.0 - distance / (2 * self.radius), 0.0, 1.0).astype(np.float32)


def test_a_soft_pseudo_label_keeps_the_networks_doubt_and_thresholds_back_to_the_mask() -> None:
    fg = np.zeros((80, 80), bool)
    fg[38:43, 38:43] = True  # a single point's disc
    bg = np.zeros((80, 80), bool)
    bg[40, 52:56] = True  # a background point inside the network's first blob: clicked away
    image = np.full(fg.shape, 100, np.uint8)
    network = GradedNetwork(radius=15)
    mask = mask_from_labels(image, fg, bg, network)
    soft = mask_from_labels(image, fg, bg, network, soft=True)
    assert soft.dtype == np.float32 and np.array_equal(soft >= 0.5, mask)
    assert (soft[fg] == 1.0).all() and (soft[bg] == 0.0).all()
    assert 0.5 <= soft[40, 50] < 0.9 and 0.2 < soft[40, 62] < 0.5  # the graded edge is kept on both sides
    assert soft[0, 0] == 0.0  # outside the network's window nothing is known of a nodule


def test_a_soft_pseudo_label_is_the_mask_where_no_probability_is_known() -> None:
    mask = np.zeros((10, 10), bool)
    mask[2:5, 2:5] = True
    soft = soft_pseudo_label(mask, None, np.zeros_like(mask), np.zeros_like(mask))
    assert soft.dtype == np.float32 and np.array_equal(soft, mask.astype(np.float32))
    empty = mask_from_labels(np.zeros((10, 10), np.uint8), np.zeros_like(mask), mask, DiscNetwork(3), soft=True)
    assert empty.dtype == np.float32 and not empty.any()
