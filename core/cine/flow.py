"""Dense optical flow between two frames (OpenCV DIS) and what it moves: masks (pulled through the backward
flow), points (pushed along the forward flow), and the forward-backward disagreement that says where the flow
cannot be trusted."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
           "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


class DenseFlow:
    """DIS optical flow at one preset. `between(a, b, initial)` returns the (H, W, 2) float32 flow (dx, dy) that
    takes each pixel of a to where it is in b; `initial` (same shape, e.g. the previous step's flow) is refined
    instead of starting from zero, so consecutive steps through a clip reuse work."""

    def __init__(self, preset: str = "fast") -> None:
        if preset not in PRESETS:
            raise ValueError(f"unknown optical flow preset {preset!r} (choose from {', '.join(PRESETS)})")
        self.preset = preset
        self._dis = cv2.DISOpticalFlow_create(PRESETS[preset])
        self._shape: tuple[int, ...] | None = None

    def between(self, a: np.ndarray, b: np.ndarray, initial: np.ndarray | None = None) -> np.ndarray:
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)  # DIS needs contiguous images (crops are views)
        if a.shape != self._shape:
            # OpenCV 5.0's DIS can crash when one instance meets a new image size: a fresh one per size
            self._dis = cv2.DISOpticalFlow_create(PRESETS[self.preset])
            self._shape = a.shape
        if initial is not None and initial.shape[:2] == a.shape[:2]:
            return self._dis.calc(a, b, initial.astype(np.float32, copy=True))
        return self._dis.calc(a, b, None)


@dataclass(frozen=True)
class FlowPair:
    """Forward (a -> b) and backward (b -> a) flow of one window, computed on the window shrunk to a working size
    when it is large (the flow of a large object is smooth, and DIS time grows with the pixels)."""

    forward: np.ndarray  # (h, w, 2) at the working size, in working-size pixels
    backward: np.ndarray
    shape: tuple[int, int]  # the window's full size (H, W)

    @property
    def shrunk(self) -> bool:
        return self.forward.shape[:2] != self.shape

    def full(self, flow: np.ndarray) -> np.ndarray:
        """A working-size flow as a full-size flow in full-size pixels."""
        if not self.shrunk:
            return flow
        (h, w), (small_h, small_w) = self.shape, flow.shape[:2]
        out = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
        out[..., 0] *= w / small_w
        out[..., 1] *= h / small_h
        return out

    def shrink(self, image: np.ndarray) -> np.ndarray:
        """A full-size window image at the working size."""
        if not self.shrunk:
            return image
        small_h, small_w = self.forward.shape[:2]
        return cv2.resize(image, (small_w, small_h), interpolation=cv2.INTER_AREA)


def flow_pair(flow: DenseFlow, a: np.ndarray, b: np.ndarray, max_side: int,
              previous: FlowPair | None = None) -> FlowPair:
    """Both flows between two same-size windows, worked out at most `max_side` px on their longer side; the
    previous pair's flows are the initial flows when they have the same working size."""
    shape = (int(a.shape[0]), int(a.shape[1]))
    scale = max_side / max(shape)
    if scale < 1.0:
        size = (max(int(round(shape[1] * scale)), 8), max(int(round(shape[0] * scale)), 8))
        a, b = (cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (a, b))
    reuse = previous is not None and previous.forward.shape[:2] == a.shape[:2]
    forward = flow.between(a, b, previous.forward if reuse else None)  # type: ignore[union-attr]
    backward = flow.between(b, a, previous.backward if reuse else None)  # type: ignore[union-attr]
    return FlowPair(forward, backward, shape)


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = shape
    return np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))


def warp_mask(mask: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """The mask of frame a as it appears in frame b, given the backward flow b -> a: pixel x of b shows what
    a had at x + backward(x). Bilinear on the 0/1 mask, thresholded at 0.5 (sub-pixel boundaries survive)."""
    xs, ys = _grid(mask.shape[:2])
    pulled = cv2.remap(np.asarray(mask, np.float32), xs + backward[..., 0], ys + backward[..., 1],
                       cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return pulled > 0.5


def sample_flow(flow: np.ndarray, points_xy: np.ndarray) -> np.ndarray:
    """The flow (bilinear) at (N, 2) points (x, y); points past the edge take the nearest edge value."""
    pts = np.asarray(points_xy, np.float32).reshape(-1, 1, 2)
    sampled = cv2.remap(flow, pts[..., 0], pts[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return sampled.reshape(-1, 2).astype(float)


def move_points(points_xy: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """(N, 2) points of frame a where they are in frame b, given the forward flow a -> b."""
    pts = np.asarray(points_xy, float).reshape(-1, 2)
    return pts + sample_flow(forward, pts)


def forward_backward_error(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """|forward(x) + backward(x + forward(x))| per pixel of a, in px: 0 where the two flows agree."""
    xs, ys = _grid(forward.shape[:2])
    back_there = cv2.remap(backward, xs + forward[..., 0], ys + forward[..., 1], cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    return np.hypot(*np.moveaxis(forward + back_there, -1, 0))


def match_correlation(a: np.ndarray, b: np.ndarray, forward: np.ndarray, region: np.ndarray) -> float:
    """Normalised correlation, over `region` of a, between a and b pulled back along the forward flow (both
    lightly smoothed so fresh speckle does not count): near 1 when b shows what a showed, near 0 when it does not."""
    xs, ys = _grid(a.shape[:2])
    smooth_a = cv2.GaussianBlur(a.astype(np.float32), (0, 0), 1.5)
    smooth_b = cv2.GaussianBlur(b.astype(np.float32), (0, 0), 1.5)
    pulled = cv2.remap(smooth_b, xs + forward[..., 0], ys + forward[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    u, v = smooth_a[region], pulled[region]
    if u.size < 2:
        return 0.0
    u, v = u - u.mean(), v - v.mean()
    norm = float(np.sqrt((u * u).sum() * (v * v).sum()))
    return float((u * v).sum() / norm) if norm > 0 else 0.0
