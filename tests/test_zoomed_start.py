"""A single point's careful first answer: the network is asked on every window size, then once more on the zoom
window round the averaged answer with that answer as the previous mask; the mask made from it honours the labels."""
import numpy as np

from core.interactive.sparse_pseudo import mask_from_labels
from core.interactive.zoomed_start import WINDOW_SCALES, zoomed_start_probability
from core.labels.crop import Crop


class RecordingDisc:
    """A stand-in click network: probability `inside` within `radius` of the first positive click, 0 elsewhere;
    with no positive click, the previous mask less the discs round the negative ones. Records each window and
    whether a previous mask came with it."""

    def __init__(self, radius: float, inside: float = 1.0) -> None:
        self.radius, self.inside = radius, inside
        self.asked: list[tuple[Crop, bool]] = []

    def predict(self, image_u8: np.ndarray, window: Crop, positives: np.ndarray, negatives: np.ndarray,
                prev_mask: np.ndarray | None) -> np.ndarray:
        self.asked.append((window, prev_mask is not None))
        ys, xs = np.mgrid[window.y0:window.y1, window.x0:window.x1]
        if not len(positives):
            near_negative = np.zeros(window.shape, bool)
            for x, y in np.asarray(negatives).reshape(-1, 2):
                near_negative |= (xs - x) ** 2 + (ys - y) ** 2 <= 9
            return (window.take(np.asarray(prev_mask, bool)) & ~near_negative).astype(np.float32)
        x, y = np.asarray(positives).reshape(-1, 2)[0]
        return np.where((xs - x) ** 2 + (ys - y) ** 2 <= self.radius ** 2, self.inside, 0.0).astype(np.float32)


def test_every_window_size_is_asked_then_the_zoomed_window_with_the_answer() -> None:
    image = np.full((100, 100), 90, np.uint8)
    network = RecordingDisc(radius=8)
    probability = zoomed_start_probability(image, (50, 50), network)
    assert len(network.asked) == len(WINDOW_SCALES) + 1
    sides = [window.shape[0] for window, _ in network.asked[:-1]]
    assert sides == sorted(sides) and len(set(sides)) == len(sides)  # each first window a different size
    assert not any(prev for _, prev in network.asked[:-1])
    zoomed, prev = network.asked[-1]
    assert prev and zoomed.shape[0] < sides[-1]  # the last ask zooms in round the disc, with it as the mask
    ys, xs = np.mgrid[:100, :100]
    assert np.array_equal(probability > 0.5, (xs - 50) ** 2 + (ys - 50) ** 2 <= 64)


def test_an_answer_unsure_everywhere_is_returned_unzoomed() -> None:
    network = RecordingDisc(radius=8, inside=0.4)
    probability = zoomed_start_probability(np.zeros((60, 60), np.uint8), (30, 30), network)
    assert len(network.asked) == len(WINDOW_SCALES)  # nothing above 0.5 to zoom round
    assert probability.max() <= 0.4


def test_the_zoomed_start_mask_keeps_the_point_and_no_background_label() -> None:
    fg = np.zeros((80, 80), bool)
    fg[39:42, 39:42] = True
    bg = np.zeros_like(fg)
    bg[40, 52] = True  # a background point inside the disc the network answers
    network = RecordingDisc(radius=15)
    mask = mask_from_labels(np.full(fg.shape, 100, np.uint8), fg, bg, network, zoomed_start=True)
    assert mask[fg].all() and not mask[bg].any()
    assert network.asked[len(WINDOW_SCALES)][1]  # the zoomed ask came before the session's clicks
    soft = mask_from_labels(np.full(fg.shape, 100, np.uint8), fg, bg, RecordingDisc(radius=15), zoomed_start=True,
                            soft=True)
    assert np.array_equal(soft >= 0.5, mask)


def test_with_a_model_probability_the_start_is_the_average_of_both() -> None:
    fg = np.zeros((80, 80), bool)
    fg[40, 40] = True
    bg = np.zeros_like(fg)
    image = np.full(fg.shape, 100, np.uint8)
    model = np.full(fg.shape, 0.9, np.float32)  # a frame model sure of nodule everywhere
    blended = mask_from_labels(image, fg, bg, RecordingDisc(radius=10), probability=model, zoomed_start=True)
    alone = mask_from_labels(image, fg, bg, RecordingDisc(radius=10), probability=model)
    ys, xs = np.mgrid[:80, :80]
    assert alone.all()  # started from the model's mask, and no label is wrong in it
    assert np.array_equal(blended, (xs - 40) ** 2 + (ys - 40) ** 2 <= 100)  # (0.9 + 0) / 2 < 0.5 off the disc
