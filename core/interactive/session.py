"""The interactive engine: one object on one frame, refined live from calipers or a box, foreground/background
clicks and scribbles (core.interactive.scribbles).

Every call returns the new mask. The work per click is bounded by a crop round the object and the clicks;
the frame-wide pieces (model probability, smoothed image, edge costs) are computed once per frame."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from scipy import ndimage

from core.annotation.clicks import Click
from core.annotation.points import Calipers
from core.annotation.strokes import Stroke
from core.errors import ClickModelUnavailable
from core.interactive import click_focus as focus
from core.interactive.click_influence import click_influence, gradient_cost
from core.interactive.crop_seeds import (
    BoxXYXY,
    add_box_evidence,
    add_window,
    box_calipers,
    clip_box,
    keep_anchored,
    stamp_disc,
)
from core.interactive.scribbles import (
    ScribblePixels,
    check_scribble,
    scribble_corners,
    scribble_reach,
    scribble_samples,
    seed_intensity_logit,
)
from core.labels.crop import Crop
from core.labels.graphcut import graph_cut_bounded
from core.labels.mask_prior import PRIOR_LIMIT, mask_prior_logit
from core.labels.segmenter import (
    INTENSITY_WEIGHT,
    MODEL_WEIGHT,
    apply_intensity_ratio,
    intensity_ratio,
    probability_logit,
    shape_prior_logit,
)

if TYPE_CHECKING:
    from core.interactive.click_network import ClickPredictor

CALIPER_REFINEMENT = "blend"  # after calipers, clicks go to: "blend" (graph cut + network), "network" (network)
PRIOR_MARGIN = 1.0  # the caliper prior is computed this far round the calipers (grown on demand), so clicks
# near the nodule never recompute it on the click path
STATS_MARGIN = 0.6  # its intensity histograms come from this far round them
GRAPH_CUT_PIXELS = 30_000  # larger crops are cut on a coarser grid (bounded latency)
GRAPH_CUT_PIXELS_WITH_NETWORK = 20_000  # the network's answer carries the detail; the cut only arbitrates
NETWORK_WEIGHT = 1.0  # click-network log-odds added to the caliper evidence (tuned on 25 val frames: 1 > 3 > 6)
CLICK_WEIGHT = 10.0  # logit added at a click's centre, fading with geodesic distance
SMOOTHNESS = 2.0
NO_EVIDENCE_LOGIT = -1.0  # without calipers or model, a pixel is background unless a click says otherwise
DEFAULT_REACH = 150.0  # px a lone click reaches when nothing tells the object's size
MASK_PRIOR_SHARPNESS = 0.08  # a prior mask's logit slope: 1 per 8 % of the object's thickness
MASK_PRIOR_SMOOTHNESS = 0.5  # with a prior mask, a weaker pull to short boundaries: at SMOOTHNESS the cut shrinks
# the object about 1 % a frame, which adds up over a clip. Both tuned on synthetic DDTI val clips (bench/cine.py);
# the caliper path's intensity histograms are left out here, as they moved the boundary off the annotators' line.
MASK_PRIOR_MARGIN = 0.25  # the prior mask's logit comes from this far round it (the crop adds its own margin)


_KEEP_BOX: BoxXYXY = (-1, -1, -1, -1)  # _push's default: the shown box stays while its calipers do


@dataclass(frozen=True)
class _State:
    calipers: Calipers | None
    clicks: tuple[Click, ...]
    mask: np.ndarray
    box: BoxXYXY | None = None
    scribbles: tuple[Stroke, ...] = ()
    network: tuple[Crop, np.ndarray] | None = None  # the click network's (window, probability) behind the mask


@dataclass
class _ClickCache:
    window: Crop
    influence: np.ndarray


class InteractionSession:
    """image: (H, W) gray uint8; probability: optional (H, W) model nodule probability for this frame;
    click_model: optional click-conditioned network (click_network.ClickPredictor). With one, each click is
    answered by the network on the zoom window round the object, given the mask shown so far (the calipers',
    the frame model's or its own) and every click; the window outside is left as it was. A click model whose
    predict raises ClickModelUnavailable is skipped for that click.
    prior: optional (H, W) bool mask of the object expected on this frame (a neighbouring frame's mask carried
    by optical flow); the session starts from the graph cut of that shape prior with the image's evidence, and
    clicks refine it as they refine calipers."""

    def __init__(self, image: np.ndarray, probability: np.ndarray | None = None,
                 click_model: ClickPredictor | None = None, prior: np.ndarray | None = None) -> None:
        self.image = image
        self.click_model = click_model
        self.shape = image.shape[:2]
        self.smoothed = cv2.GaussianBlur(image, (0, 0), 1.0)
        self._cost = None if prior is not None else gradient_cost(self.smoothed)  # a propagated frame may get no click
        self.model_logit = None if probability is None else MODEL_WEIGHT * probability_logit(probability)
        self.model_mask = np.zeros(self.shape, bool) if probability is None else probability > 0.5
        self._influences: dict[Click, _ClickCache] = {}
        self._history: list[_State] = []
        self._future: list[_State] = []
        self._state = _State(None, (), self.model_mask.copy())
        self._components: tuple[np.ndarray, list] | None = None  # model-mask labels and their boxes
        self._prior_cache: tuple[Calipers, Crop, np.ndarray] | None = None
        self.prior_mask = None if prior is None or not np.any(prior) else np.ascontiguousarray(prior, bool)
        self._mask_prior: tuple[Crop, np.ndarray, np.ndarray] | None = None  # region, logit, anchor (x, y)
        self._scribble_pixels = ScribblePixels(self.shape)
        self._answered_by: tuple[Crop, np.ndarray] | None = None  # set by the network's answer during _compute
        if self.prior_mask is not None:
            self._state = _State(None, (), self._compute(None, ()))

    # ----- public API -------------------------------------------------------------------------------
    @property
    def cost(self) -> np.ndarray:
        """Per-pixel travel cost of a click's reach (core.interactive.click_influence.gradient_cost)."""
        if self._cost is None:
            self._cost = gradient_cost(self.smoothed)
        return self._cost

    @property
    def mask(self) -> np.ndarray:
        return self._state.mask

    @property
    def clicks(self) -> tuple[Click, ...]:
        return self._state.clicks

    @property
    def network_probability(self) -> np.ndarray | None:
        """The click network's nodule probability behind the mask shown (frame-sized, 0 outside its zoom
        window), or None when the mask shown is not the network's answer (no click model, calipers, scribbles)."""
        if self._state.network is None:
            return None
        window, probability = self._state.network
        return window.paste(np.zeros(self.shape, np.float32), probability.astype(np.float32))

    @property
    def calipers(self) -> Calipers | None:
        return self._state.calipers

    @property
    def box(self) -> BoxXYXY | None:
        return self._state.box

    @property
    def scribbles(self) -> tuple[Stroke, ...]:
        return self._state.scribbles

    def set_calipers(self, calipers: Calipers | None) -> np.ndarray:
        return self._push(calipers, self._state.clicks)

    def set_box(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Start (or restart) from a box dragged round the object, corners in any order: outside it is confident
        background (hard beyond a slack of crop_seeds.BOX_SLACK x its longer side), inside the calipers of its
        mid-lines give the shape prior. Clicks so far are kept; one undo step. Replaced by set_calipers, cleared
        by reset."""
        box = clip_box((x0, y0, x1, y1), self.shape)
        return self._push(box_calipers(box), self._state.clicks, box)

    def add_scribble(self, stroke: Stroke) -> np.ndarray:
        """A nodule (stroke.foreground) or background scribble: its pixels become hard seeds; one undo step."""
        check_scribble(stroke, self.shape)
        return self._push(self._state.calipers, self._state.clicks, scribbles=(*self._state.scribbles, stroke))

    def add_click(self, x: float, y: float, positive: bool) -> np.ndarray:
        h, w = self.shape
        if not (0 <= x < w and 0 <= y < h):
            raise ValueError(f"click ({x:.1f}, {y:.1f}) is outside the {w} x {h} frame")
        return self._push(self._state.calipers, (*self._state.clicks, Click(int(round(x)), int(round(y)), positive)))

    def undo(self) -> np.ndarray:
        if self._history:
            self._future.append(self._state)
            self._state = self._history.pop()
        return self.mask

    def redo(self) -> np.ndarray:
        if self._future:
            self._history.append(self._state)
            self._state = self._future.pop()
        return self.mask

    def reset(self) -> np.ndarray:
        return self._push(None, (), scribbles=())

    # ----- the computation --------------------------------------------------------------------------
    def _push(self, calipers: Calipers | None, clicks: tuple[Click, ...],
              box: BoxXYXY | None = _KEEP_BOX, scribbles: tuple[Stroke, ...] | None = None) -> np.ndarray:
        if box == _KEEP_BOX:
            box = self._state.box if calipers == self._state.calipers else None
        scribbles = self._state.scribbles if scribbles is None else scribbles
        self._answered_by = None
        mask = self._compute(calipers, clicks, box, scribbles)
        self._history.append(self._state)
        self._future.clear()
        self._state = _State(calipers, clicks, mask, box, scribbles, self._answered_by)
        return mask

    def _object_reach(self, calipers: Calipers | None, scribbles: tuple[Stroke, ...] = ()) -> float:
        if calipers is not None:
            return max(0.6 * calipers.short_axis_px, 6.0)
        if self.prior_mask is not None:
            return float(np.clip(0.6 * np.sqrt(self.prior_mask.sum()), 6.0, 150.0))
        if self.model_mask.any():
            return float(np.clip(0.8 * np.sqrt(self.model_mask.sum()), 6.0, 150.0))
        along = scribble_reach(scribbles)
        return DEFAULT_REACH if along is None else float(np.clip(along, 6.0, DEFAULT_REACH))

    def _influence(self, click: Click, reach: float) -> _ClickCache:
        cached = self._influences.get(click)
        if cached is None or cached.influence.size == 0:
            window, influence = click_influence(self.cost, click.x, click.y, reach)
            cached = self._influences[click] = _ClickCache(window, influence)
        return cached

    def _model_components_touching(self, points: np.ndarray) -> list[np.ndarray]:
        """Bounding corners of the model-mask components under positive evidence (so the crop holds them)."""
        if not self.model_mask.any() or len(points) == 0:
            return []
        if self._components is None:
            labelled, _ = ndimage.label(self.model_mask)
            self._components = labelled, ndimage.find_objects(labelled)
        labelled, objects = self._components
        h, w = self.shape
        inside = [(int(x), int(y)) for x, y in points if 0 <= x < w and 0 <= y < h]  # calipers may leave the frame
        ids = {int(labelled[y, x]) for x, y in inside} - {0}
        corners = []
        for i in ids:
            sl = objects[i - 1]
            corners.append(np.array([[sl[1].start, sl[0].start], [sl[1].stop - 1, sl[0].stop - 1]], float))
        return corners

    def _compute(self, calipers: Calipers | None, clicks: tuple[Click, ...], box: BoxXYXY | None = None,
                 scribbles: tuple[Stroke, ...] = ()) -> np.ndarray:
        if calipers is None and not clicks and not scribbles and self.prior_mask is None:
            return self.model_mask.copy()
        if self.click_model is not None and clicks and not scribbles and calipers == self._state.calipers and (
                calipers is None or CALIPER_REFINEMENT == "network"):
            try:
                return self._network_answer(clicks, calipers)
            except ClickModelUnavailable:
                pass  # answered by the graph cut below, like a session without a click model
        samples = [scribble_samples(s, self.shape) for s in scribbles]
        seeds = [*clicks, *(c for group in samples for c in group)]  # everything that reaches out like a click
        anchor_points = [np.array([[c.x, c.y]], float) for c in seeds if c.positive]
        if calipers is not None:
            anchor_points.append(calipers.as_array())
        elif self.prior_mask is not None:
            _, _, anchor = self._mask_prior_region()
            anchor_points.append(anchor[None])
        if box is not None:  # a box's mid-lines end on its sides, off the object; its centre is the anchor
            anchor_points.append(np.array([[(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]], float))
        anchors = np.concatenate(anchor_points) if anchor_points else np.zeros((0, 2))
        reach = self._object_reach(calipers, scribbles)
        influences = [(c, self._influence(c, reach)) for c in clicks]
        reaches = [(s.foreground, [self._influence(c, reach) for c in group]) for s, group in zip(scribbles, samples)]

        parts = [anchors, np.array([[c.x, c.y] for c in clicks], float).reshape(-1, 2)]
        parts += [scribble_corners(s) for s in scribbles] + self._model_components_touching(anchors)
        if calipers is None and self.prior_mask is not None:
            region = self._mask_prior_region()[0]
            parts.append(np.array([[region.x0, region.y0], [region.x1 - 1, region.y1 - 1]], float))
        if not len(anchors):  # only negative clicks or scribbles: they edit the model's mask where they land
            windows = [i.window for _, i in influences] + [i.window for _, group in reaches for i in group]
            parts += [np.array([[w.x0, w.y0], [w.x1 - 1, w.y1 - 1]], float) for w in windows]
        crop = Crop.around(np.concatenate(parts), self.shape, margin_frac=0.3, min_margin=int(reach))

        logit = self._base_logit(calipers, crop)
        cut_pixels = GRAPH_CUT_PIXELS
        if self.click_model is not None and clicks:
            try:
                logit += NETWORK_WEIGHT * self._network_logit(clicks, crop, calipers)
                cut_pixels = GRAPH_CUT_PIXELS_WITH_NETWORK
            except ClickModelUnavailable:
                pass
        hard_fg = np.zeros(crop.shape, bool)
        hard_bg = crop.touches_border_of(self.shape)
        if box is not None:
            add_box_evidence(logit, hard_bg, crop, box)
        for click, cache in influences:
            add_window(logit, crop, cache.window, cache.influence, CLICK_WEIGHT if click.positive else -CLICK_WEIGHT)
            stamp_disc(hard_fg if click.positive else hard_bg, crop, click)
        for foreground, group in reaches:  # a scribble's reach is that of its nearest sample, not their sum
            logit += (CLICK_WEIGHT if foreground else -CLICK_WEIGHT) * self._nearest_reach(crop, group)
        if scribbles:
            nodule = crop.take(self._scribble_pixels.seeds(scribbles, True))
            background = crop.take(self._scribble_pixels.seeds(scribbles, False))
            logit += seed_intensity_logit(crop.take(self.smoothed), nodule)
            hard_fg |= nodule
            hard_bg |= background
        hard_bg &= ~hard_fg
        smoothness = MASK_PRIOR_SMOOTHNESS if calipers is None and self.prior_mask is not None else SMOOTHNESS
        local = graph_cut_bounded(crop.take(self.smoothed), logit, smoothness, hard_fg, hard_bg, cut_pixels)
        negatives = np.array([[c.x, c.y] for c in seeds if not c.positive], float).reshape(-1, 2)
        local = keep_anchored(local, crop, anchors, negatives)
        if len(anchors):
            return crop.paste(np.zeros(self.shape, bool), local)
        return crop.paste(self.model_mask, local)

    @staticmethod
    def _nearest_reach(crop: Crop, caches: list[_ClickCache]) -> np.ndarray:
        """The largest influence of the caches at each pixel of the crop."""
        out = np.zeros(crop.shape, np.float32)
        for cache in caches:
            common = cache.window.intersection(crop)
            if common is not None:
                inside = common.within(crop)
                out[inside] = np.maximum(out[inside], cache.influence[common.within(cache.window)])
        return out

    def _network_answer(self, clicks: tuple[Click, ...], calipers: Calipers | None = None) -> np.ndarray:
        """The click network's mask on the zoom window round the object (core.interactive.click_focus): only its
        parts holding a positive click (or the calipers' centre) are kept; a negative click on a stray part drops it."""
        prev, anchors = self._state.mask, focus.click_anchors(clicks, calipers)
        stray = focus.stray_part(prev, clicks, anchors)
        if stray is not None:
            return prev & ~stray
        obj = focus.refined_object(prev, anchors, clicks)
        window, probability = self._network_probability(clicks, obj)
        self._answered_by = (window, probability)
        local = focus.honour_clicks(probability > 0.5, window, clicks)
        if len(anchors) == 0 and prev.any():  # only negative clicks: trim the part clicked, keep the others
            return window.paste(prev, (local & window.take(obj)) | window.take(prev & ~obj))
        return window.paste(obj, keep_anchored(local, window, anchors, focus.click_points(clicks, False)))

    def _network_logit(self, clicks: tuple[Click, ...], crop: Crop, calipers: Calipers | None) -> np.ndarray:
        """The click network's log-odds on `crop` (0 where its zoom window does not reach)."""
        obj = focus.refined_object(self._state.mask, focus.click_anchors(clicks, calipers), clicks)
        window, probability = self._network_probability(clicks, obj)
        out = np.zeros(crop.shape, np.float32)
        common = window.intersection(crop)
        if common is not None:
            out[common.within(crop)] = probability_logit(probability[common.within(window)])
        return out

    def _network_probability(self, clicks: tuple[Click, ...], obj: np.ndarray) -> tuple[Crop, np.ndarray]:
        """(zoom window round the object `obj` and the clicks near it, the network's probability over it)."""
        positives, negatives = focus.click_points(clicks, True), focus.click_points(clicks, False)
        window = focus.focus_window(self.shape, obj, positives, negatives)
        assert self.click_model is not None
        return window, self.click_model.predict(self.image, window, positives, negatives, obj)

    def _base_logit(self, calipers: Calipers | None, crop: Crop) -> np.ndarray:
        """Evidence before clicks (caliper shape prior + intensity, model) on the crop. The caliper part is
        computed once per calipers on a generous region and sliced on later clicks."""
        logit = np.full(crop.shape, NO_EVIDENCE_LOGIT if self.model_logit is None else 0.0, np.float32)
        if calipers is not None:
            cached = self._prior_cache
            if cached is None or cached[0] != calipers or not cached[1].contains(crop):
                points = calipers.as_array()
                region = Crop.around(points, self.shape, margin_frac=PRIOR_MARGIN, min_margin=16).union(crop)
                # intensity statistics come from a tighter ring, as in the caliper-only segmenter
                stats = Crop.around(points, self.shape, margin_frac=STATS_MARGIN, min_margin=16).union(crop)
                prior = shape_prior_logit(region.shape, Calipers.from_array(points - region.offset_xy))
                ratio = intensity_ratio(stats.take(self.smoothed), prior[stats.within(region)])
                prior = prior + INTENSITY_WEIGHT * apply_intensity_ratio(region.take(self.smoothed), ratio)
                cached = self._prior_cache = (calipers, region, prior)
            _, region, prior = cached
            logit = prior[crop.within(region)]
        elif self.prior_mask is not None:
            logit = self._mask_prior_logit(crop)
        if self.model_logit is not None:
            logit = logit + crop.take(self.model_logit)
        return logit.copy()

    def _mask_prior_region(self) -> tuple[Crop, np.ndarray, np.ndarray]:
        """(region round the prior mask, the prior's logit over it, the prior's deepest point), computed once."""
        if self._mask_prior is None:
            assert self.prior_mask is not None
            x, y, w, h = cv2.boundingRect(self.prior_mask.view(np.uint8))
            corners = np.array([[x, y], [x + w - 1, y + h - 1]], float)
            region = Crop.around(corners, self.shape, margin_frac=MASK_PRIOR_MARGIN, min_margin=16)
            logit, deepest = mask_prior_logit(region.take(self.prior_mask), MASK_PRIOR_SHARPNESS)
            assert deepest is not None  # the prior mask is not empty
            anchor = deepest + region.offset_xy
            self._mask_prior = region, logit, anchor
        return self._mask_prior

    def _mask_prior_logit(self, crop: Crop) -> np.ndarray:
        region, logit, _ = self._mask_prior_region()
        out = np.full(crop.shape, -PRIOR_LIMIT, np.float32)  # beyond the region: far outside the prior
        common = region.intersection(crop)
        if common is not None:
            out[common.within(crop)] = logit[common.within(region)]
        return out
