"""A project frame's drawn sparse labels (scribbles and boxes) as training targets, read the way
`train --supervision scribbles|boxes` reads simulated ones (core.training.targets.sparse_targets): scribble
pixels are confident nodule or background, outside every box is confident background, a box's centred core is
confident nodule and the box itself the location label for the projection term. Frames with strokes but no
calipers or accepted mask get a pseudo-label (the part the calipers' fused mask plays for caliper frames): with a
click network, its mask from clicks on the labelled pixels (core.interactive.sparse_pseudo) unless a box is drawn;
else, and for boxes, the interactive engine's mask from the strokes. Without a click network single points make
none: the engine's mask from a lone click has no size to go by and often leaks (tests/test_scribble_engine.py), so
it would teach the leak."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.annotation.sparse_simulation import SparseLabels
from core.annotation.strokes import Stroke, StrokeKind, box_inside, scribble_pixels
from core.interactive.click_network import ClickPredictor
from core.interactive.crop_seeds import clip_box
from core.interactive.sparse_pseudo import mask_from_labels
from core.interactive.stroke_mask import mask_from_strokes
from core.training.targets import sparse_targets
from models.preprocess import Box, crop_resize, points_to_work


def stroke_labels(strokes: list[Stroke], shape: tuple[int, int]) -> SparseLabels:
    """Confident pixels at frame resolution; where a nodule and a background label meet, neither is kept."""
    nodule, background = np.zeros(shape, bool), np.zeros(shape, bool)
    boxes, inside = [], np.zeros(shape, bool)
    for stroke in strokes:
        if stroke.kind is StrokeKind.BOX:
            try:
                boxes.append(clip_box(stroke.box_xyxy, shape))
            except ValueError:  # a box under 2 px in this frame says nothing
                continue
            inside |= box_inside(stroke, shape)
        elif stroke.foreground:
            nodule |= scribble_pixels(stroke, shape)
        else:
            background |= scribble_pixels(stroke, shape)
    if boxes:
        background |= ~inside
    both = nodule & background
    return SparseLabels(nodule & ~both, background & ~both, boxes)


def stroke_in_work(stroke: Stroke, box: Box, resolution: int) -> Stroke:
    """The stroke in working-resolution pixels, at least one pixel wide. Drawn there rather than drawn in the
    frame and resized: shrinking a thin line by nearest neighbour leaves a dotted one."""
    x0, y0, x1, y1 = box
    scale = (resolution / (x1 - x0) + resolution / (y1 - y0)) / 2
    points = points_to_work(np.asarray(stroke.points, float), box, resolution)
    if stroke.kind is StrokeKind.BOX:  # whole pixels, outward: the box still encloses its object
        points = np.array([np.floor(points.min(axis=0)), np.ceil(points.max(axis=0))])
    return replace(stroke, points=tuple((float(x), float(y)) for x, y in points),
                   width=max(1.0, stroke.width * scale))


def add_stroke_targets(targets: np.ndarray, strokes: list[Stroke], image: np.ndarray, box: Box,
                       resolution: int, engine_pseudo: bool = True) -> None:
    """Merge a frame's strokes into its (4, R, R) working-resolution targets in place (its clicks are there
    already). Drawn labels overrule derived ones (the calipers') where they disagree. An empty pseudo channel
    (no calipers, no mask) becomes the engine's mask from the strokes, unless engine_pseudo is False (the
    caller makes it another way: add_network_pseudo)."""
    if not strokes:
        return
    work = sparse_targets(stroke_labels([stroke_in_work(s, box, resolution) for s in strokes],
                                        (resolution, resolution))) > 0
    fg, bg = targets[0] > 0, targets[1] > 0
    targets[0] = (fg & ~work[1]) | work[0]
    targets[1] = (bg & ~work[0]) | (work[1] & ~work[0])
    targets[2] |= work[2].astype(np.uint8)
    if engine_pseudo and not targets[3].any():
        targets[3] = crop_resize(mask_from_strokes(image, strokes).astype(np.uint8), box, resolution, nearest=True)


def add_network_pseudo(targets: np.ndarray, work_image: np.ndarray, click_model: ClickPredictor,
                       between_strokes: bool = False) -> None:
    """Fill an empty pseudo channel with the click network's mask from the confident pixels (scribbles, clicks,
    single points) of the frame at the working resolution; left empty when none is labelled nodule.
    between_strokes: a background scribble was drawn (core.interactive.sparse_pseudo.mask_from_labels)."""
    if not targets[3].any():
        targets[3] = mask_from_labels(work_image, targets[0] > 0, targets[1] > 0, click_model,
                                      between_strokes=between_strokes).astype(np.uint8)
