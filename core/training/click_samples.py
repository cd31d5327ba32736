"""Simulated interaction states for the click-conditioned network (algorithms.md D): a training sample is a
zoom window round the nodule (or round a first click) with a previous mask that is empty, a perturbed copy of
the truth (as calipers or a frame model would give) or the network's own earlier answer, and robot clicks
placed where that previous mask is wrong; robot rounds add a click against the network's answer (RITM's
iterative training). Frames without a nodule give negatives: a false blob, a negative click on it, background
to learn. Validation: window IoU after 3 robot clicks."""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from core.interactive.click_inputs import FIRST_CLICK_WINDOW, click_planes, network_input, zoom_window
from core.interactive.robot_user import next_click
from core.labels.crop import Crop
from core.runtime.device import autocast
from core.training.augment import MILD_APPEARANCE, AppearanceConfig, vary_appearance, vary_lesion_echo
from models.preprocess import Normalisation
from models.unet import UNet


@dataclass
class ClickFrame:
    stem: str
    image: np.ndarray  # (H, W) uint8 frame
    truth: np.ndarray  # (H, W) bool nodule mask
    depth: np.ndarray = field(init=False)  # distance to the nodule's edge, for click sampling

    def __post_init__(self) -> None:
        self.depth = cv2.distanceTransform(self.truth.astype(np.uint8), cv2.DIST_L2, 3)


def frames_with_masks(items: list) -> list[ClickFrame]:
    """Dataset items (core.io.dataset) with a non-empty mask as click-training frames; frames without a nodule
    teach the click network nothing and are left out."""
    frames = []
    for item in items:
        truth = item.mask()
        if truth is not None and truth.any():
            frames.append(ClickFrame(item.stem, item.frame().gray_u8(), truth))
    return frames


def _perturbed(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible imperfect mask: the truth grown or shrunk, shifted and rescaled a little, or an ellipse."""
    radius = max(float(np.sqrt(truth.sum() / np.pi)), 2.0)
    m = truth.astype(np.uint8)
    if rng.random() < 0.3:
        ys, xs = np.nonzero(truth)
        if len(xs) >= 5:
            pts = np.stack([xs, ys], 1).astype(np.float32)
            (cx, cy), (a, b), angle = cv2.minAreaRect(pts)
            m = np.zeros_like(m)
            cv2.ellipse(m, ((cx, cy), (a * 1.05, b * 1.05), angle), 1, -1)
    k = int(round(rng.uniform(-0.25, 0.25) * radius))
    if k:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(k) + 1,) * 2)
        m = cv2.dilate(m, kernel) if k > 0 else cv2.erode(m, kernel)
    h, w = truth.shape
    ys, xs = np.nonzero(truth)
    centre = (float(xs.mean()), float(ys.mean())) if len(xs) else (w / 2, h / 2)
    affine = cv2.getRotationMatrix2D(centre, rng.uniform(-10, 10), rng.uniform(0.9, 1.1))
    affine[:, 2] += rng.normal(0, 0.08 * radius, 2)
    return cv2.warpAffine(m, affine, (w, h), flags=cv2.INTER_NEAREST) > 0


def _random_window(frame: ClickFrame, rng: np.random.Generator, first_click: tuple[int, int] | None,
                   first_scale: tuple[float, float] = (0.8, 1.2)) -> Crop:
    h, w = frame.truth.shape
    if first_click is not None:
        side = FIRST_CLICK_WINDOW * min(h, w) * rng.uniform(*first_scale)
        return Crop.around(np.array([first_click], float), (h, w), 0.0, int(side / 2))
    ys, xs = np.nonzero(frame.truth)
    lo, hi = np.array([xs.min(), ys.min()], float), np.array([xs.max(), ys.max()], float)
    span = float((hi - lo).max())
    shift = rng.uniform(-0.12, 0.12, 2) * span
    margin = rng.uniform(0.2, 0.6) * span
    return Crop.around(np.stack([lo + shift, hi + shift]), (h, w), 0.0, int(max(margin, 8)))


def negative_sample(frame: ClickFrame, rng: np.random.Generator, size: int, norm: Normalisation,
                    appearance: AppearanceConfig = MILD_APPEARANCE) -> tuple[np.ndarray, np.ndarray]:
    """A frame with no nodule: a false blob (the draft a frame model might give) somewhere in a window, a
    negative click on it, and the answer to learn, background everywhere: the click network's negatives."""
    h, w = frame.truth.shape
    side = FIRST_CLICK_WINDOW * min(h, w) * rng.uniform(0.8, 1.2)
    centre = (int(rng.integers(w)), int(rng.integers(h)))
    window = Crop.around(np.array([centre], float), (h, w), 0.0, int(side / 2))
    blob = np.zeros((h, w), np.uint8)
    axes = tuple(max(2, int(side * rng.uniform(0.08, 0.25))) for _ in range(2))
    cv2.ellipse(blob, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    image = vary_appearance(frame.image, rng, appearance)
    planes = network_input(image, window, size, norm, np.zeros((0, 2)), np.array([centre], float), blob > 0)
    return planes, np.zeros((size, size), np.float32)


def make_sample(frame: ClickFrame, rng: np.random.Generator, size: int, norm: Normalisation,
                appearance: AppearanceConfig = MILD_APPEARANCE,
                lesion_echo: float = 0.0, first_scale: tuple[float, float] = (0.8, 1.2)
                ) -> tuple[np.ndarray, np.ndarray]:
    """(planes (4, size, size), truth (size, size)) for one simulated interaction state; a frame with an empty
    truth (a "no nodule" frame) gives a negative_sample. lesion_echo: the share of samples whose object gets a
    random echogenicity (augment.vary_lesion_echo); first_scale: the range of a first click's window, in
    FIRST_CLICK_WINDOW's (wider: objects of more sizes relative to that window)."""
    truth = frame.truth
    if not truth.any():
        return negative_sample(frame, rng, size, norm, appearance)
    if rng.random() < 0.25:  # the first click on a frame with nothing else: no previous mask
        prev = np.zeros_like(truth)
        first = next_click(truth, prev)
        window = _random_window(frame, rng, (first.x, first.y), first_scale)
        positives, negatives = [(first.x, first.y)], []
    else:
        prev = _perturbed(truth, rng) if rng.random() < 0.75 else np.zeros_like(truth)
        clicked = np.zeros_like(truth)
        positives, negatives = [], []
        for _ in range(int(rng.choice([1, 1, 2, 3]))):
            click = next_click(truth, prev, clicked)
            if click is None:
                break
            clicked[click.y, click.x] = True
            (positives if click.positive else negatives).append((click.x, click.y))
        if not positives:  # a correction always comes with at least one point on the nodule
            ys, xs = np.nonzero(frame.depth >= 0.5 * frame.depth.max())
            i = int(rng.integers(len(xs)))
            positives.append((int(xs[i]), int(ys[i])))
        window = zoom_window(truth.shape, prev, np.array(positives + negatives, float))
        if rng.random() < 0.5:
            window = window.union(_random_window(frame, rng, None))
    image = vary_lesion_echo(frame.image, truth, rng) if lesion_echo and rng.random() < lesion_echo else frame.image
    image = vary_appearance(image, rng, appearance)
    planes = network_input(image, window, size, norm, np.array(positives, float).reshape(-1, 2),
                           np.array(negatives, float).reshape(-1, 2), prev)
    target = cv2.resize(window.take(truth).astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
    if rng.random() < 0.5:
        planes, target = planes[:, :, ::-1].copy(), target[:, ::-1].copy()
    return planes, target.astype(np.float32)


def robot_round(planes: np.ndarray, targets: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One more simulated click per sample against the network's answer; the answer becomes the previous mask."""
    planes = planes.copy()
    size = planes.shape[-1]
    for i in range(len(planes)):
        truth, answer = targets[i] > 0.5, probs[i] > 0.5
        clicked = (planes[i, 1] > 0) | (planes[i, 2] > 0)
        click = next_click(truth, answer, clicked)
        if click is not None:
            channel = 1 if click.positive else 2
            planes[i, channel] = np.maximum(planes[i, channel], click_planes(size, [(click.x, click.y)]))
        planes[i, 3] = probs[i]
    return planes


@torch.no_grad()
def predict(model: UNet, planes: np.ndarray, device: torch.device, amp: bool) -> np.ndarray:
    """The network's nodule probability (N, size, size) for a batch of click-network inputs."""
    x = torch.from_numpy(planes).to(device).contiguous(memory_format=torch.channels_last)
    with autocast(device, amp):
        return torch.sigmoid(model(x).float())[:, 0].cpu().numpy()


def evaluate_clicks(model: UNet, frames: list[ClickFrame], norm: Normalisation, size: int, device: torch.device,
                    rounds: int = 3) -> float:
    """Mean window IoU after `rounds` robot clicks from nothing (first click at the nodule's deepest point)."""
    if not frames:
        return float("nan")
    model.eval()
    rng = np.random.default_rng(0)
    scores = []
    for frame in frames:
        first = next_click(frame.truth, np.zeros_like(frame.truth))
        window = _random_window(frame, rng, (first.x, first.y))
        planes = network_input(frame.image, window, size, norm, np.array([[first.x, first.y]], float),
                               np.zeros((0, 2)), None)[None]
        target = cv2.resize(window.take(frame.truth).astype(np.uint8), (size, size),
                            interpolation=cv2.INTER_NEAREST)[None].astype(np.float32)
        prob = predict(model, planes, device, False)
        for _ in range(rounds - 1):
            planes = robot_round(planes, target, prob)
            prob = predict(model, planes, device, False)
        answer, truth = prob[0] > 0.5, target[0] > 0.5
        union = (answer | truth).sum()
        scores.append(float((answer & truth).sum() / union) if union else 1.0)
    return float(np.mean(scores))
