"""Training of the click-conditioned network (RITM-style) with a simulated user, from frames with masks.

Each sample is a zoom window round the nodule (or round a first click) with a previous mask that is empty,
a perturbed copy of the truth (as calipers or a frame model would give) or the network's own earlier answer,
and robot clicks placed where that previous mask is wrong (algorithms.md D). Part of each batch goes through
1-2 extra no-gradient rounds in which the network answers and the robot clicks again (RITM's iterative
training), so the network learns to correct its own mistakes. Loss: Dice + BCE against the window's truth."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from core.interactive.click_inputs import CLICK_CHANNELS, FIRST_CLICK_WINDOW, click_planes, network_input, zoom_window
from core.interactive.robot_user import next_click
from core.labels.crop import Crop
from core.runtime.device import autocast, needs_grad_scaler, select_device, set_cpu_threads
from core.training.trainer import StopSignal, TrainEvent, TrainResult, _Ema, _lr_factor, optimiser_step
from models.checkpoint import save_checkpoint
from models.losses import supervised_loss
from models.preprocess import Normalisation
from models.unet import UNet, spec_from_preset

CLICK_RESOLUTION = 96
# tiny runs in 8 ms at 96 px on 2 CPU cores (fast: 16 ms) and, trained 20 min on the CPU, reached a higher
# val IoU after 3 clicks (0.837) than fast did in 8 GPU minutes (0.821)
CLICK_PRESET = "tiny"


@dataclass
class ClickTrainConfig:
    preset: str = CLICK_PRESET
    resolution: int = CLICK_RESOLUTION
    epochs: int | None = 40
    minutes: float | None = None
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.03
    ema_decay: float = 0.995
    iterate_probability: float = 0.6  # share of batches given extra robot rounds on the network's answers
    max_rounds: int = 2
    seed: int = 0
    threads: int | None = None
    device: str = "auto"
    amp: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ClickFrame:
    stem: str
    image: np.ndarray  # (H, W) uint8 frame
    truth: np.ndarray  # (H, W) bool nodule mask
    depth: np.ndarray = field(init=False)  # distance to the nodule's edge, for click sampling

    def __post_init__(self) -> None:
        self.depth = cv2.distanceTransform(self.truth.astype(np.uint8), cv2.DIST_L2, 3)


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


def _random_window(frame: ClickFrame, rng: np.random.Generator, first_click: tuple[int, int] | None) -> Crop:
    h, w = frame.truth.shape
    if first_click is not None:
        side = FIRST_CLICK_WINDOW * min(h, w) * rng.uniform(0.8, 1.2)
        return Crop.around(np.array([first_click], float), (h, w), 0.0, int(side / 2))
    ys, xs = np.nonzero(frame.truth)
    lo, hi = np.array([xs.min(), ys.min()], float), np.array([xs.max(), ys.max()], float)
    span = float((hi - lo).max())
    shift = rng.uniform(-0.12, 0.12, 2) * span
    margin = rng.uniform(0.2, 0.6) * span
    return Crop.around(np.stack([lo + shift, hi + shift]), (h, w), 0.0, int(max(margin, 8)))


def make_sample(frame: ClickFrame, rng: np.random.Generator, size: int,
                norm: Normalisation) -> tuple[np.ndarray, np.ndarray]:
    """(planes (4, size, size), truth (size, size)) for one simulated interaction state."""
    truth = frame.truth
    if rng.random() < 0.25:  # the first click on a frame with nothing else: no previous mask
        prev = np.zeros_like(truth)
        first = next_click(truth, prev)
        window = _random_window(frame, rng, (first.x, first.y))
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
    image = frame.image
    if rng.random() < 0.5:
        scaled = (image.astype(np.float32) / 255.0) ** rng.uniform(0.8, 1.25) * rng.uniform(0.8, 1.2)
        image = np.clip(255.0 * scaled, 0, 255).astype(np.uint8)
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
def _predict(model: UNet, planes: np.ndarray, device: torch.device, amp: bool) -> np.ndarray:
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
        prob = _predict(model, planes, device, False)
        for _ in range(rounds - 1):
            planes = robot_round(planes, target, prob)
            prob = _predict(model, planes, device, False)
        answer, truth = prob[0] > 0.5, target[0] > 0.5
        union = (answer | truth).sum()
        scores.append(float((answer & truth).sum() / union) if union else 1.0)
    return float(np.mean(scores))


def train_click_model(frames: list[ClickFrame], val_frames: list[ClickFrame], cfg: ClickTrainConfig,
                      out_path: str | Path, on_event: Callable[[TrainEvent], None] | None = None,
                      stop: StopSignal | None = None, metadata: dict | None = None) -> TrainResult:
    """Train, keep the EMA weights with the best validation IoU (the last ones without validation)."""
    if not frames:
        raise ValueError("no training frames")
    if cfg.epochs is None and cfg.minutes is None:
        raise ValueError("give epochs, minutes or both")
    set_cpu_threads(cfg.threads)
    device = select_device(cfg.device)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    stop = stop or StopSignal()
    emit = on_event or (lambda event: None)
    norm = Normalisation.fitted([f.image for f in frames], every=11)
    unet = UNet(spec_from_preset(cfg.preset, CLICK_CHANNELS)).to(device).to(memory_format=torch.channels_last)
    ema = _Ema(unet, cfg.ema_decay)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scaler = torch.amp.GradScaler("cuda") if needs_grad_scaler(device, cfg.amp) else None
    steps_per_epoch = max(1, len(frames) // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs if cfg.epochs else None
    budget_s = cfg.minutes * 60.0 if cfg.minutes else None
    meta = dict(metadata or {}, task="interactive", resolution=cfg.resolution, normalisation=norm.to_dict(),
                preprocess={"crop": "zoom_window", "resize": "square"}, training=cfg.to_dict())
    start = time.perf_counter()
    history: list[dict] = []
    best, best_epoch, step, epoch, seen, stopped_by = -1.0, None, 0, 0, 0, "epochs"
    losses_avg = 0.0

    def progress() -> float:
        p = [step / total_steps] if total_steps else []
        if budget_s:
            p.append((time.perf_counter() - start) / budget_s)
        return min(1.0, max(p))

    emit(TrainEvent("start", 0, 0, 0.0, None))
    done = False
    while not done:
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(frames))
        for b in range(steps_per_epoch):
            if stop.requested:
                done, stopped_by = True, "stop requested"
                break
            if budget_s and time.perf_counter() - start >= budget_s:
                done, stopped_by = True, "time budget"
                break
            idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            samples = [make_sample(frames[int(i)], rng, cfg.resolution, norm) for i in idx]
            planes = np.stack([s[0] for s in samples])
            targets = np.stack([s[1] for s in samples])
            if rng.random() < cfg.iterate_probability:
                unet.eval()
                for _ in range(int(rng.integers(1, cfg.max_rounds + 1))):
                    planes = robot_round(planes, targets, _predict(unet, planes, device, cfg.amp))
            unet.train()
            for g in optimizer.param_groups:
                g["lr"] = cfg.lr * _lr_factor(progress(), cfg.warmup_fraction)
            x = torch.from_numpy(planes).to(device).contiguous(memory_format=torch.channels_last)
            y = torch.from_numpy(targets[:, None]).to(device)
            with autocast(device, cfg.amp):
                logits = unet(x)
            with torch.autocast(device.type, enabled=False):
                loss = supervised_loss(logits.float(), y)
            optimiser_step(optimizer, scaler, loss)
            ema.update(unet, step)
            step += 1
            seen += len(idx)
            losses_avg = 0.9 * losses_avg + 0.1 * float(loss.detach()) if step > 1 else float(loss.detach())
        else:
            epoch += 1
        if cfg.epochs and epoch >= cfg.epochs:
            done = True
        elapsed = time.perf_counter() - start
        val = evaluate_clicks(ema.model, val_frames, norm, cfg.resolution, device) if val_frames else None
        if (val is not None and val > best) or (val is None and done):
            best, best_epoch = (val, epoch) if val is not None else (best, epoch)
            save_checkpoint(out_path, ema.model, dict(meta, metrics={"val_iou_3_clicks": val, "epoch": epoch}))
        p = progress()
        record = TrainEvent("epoch", epoch, step, elapsed, elapsed * (1 - p) / p if p > 0 else None,
                            {"dice_bce": losses_avg, "total": losses_avg}, val, best if best >= 0 else None, None,
                            optimizer.param_groups[0]["lr"], seen / max(elapsed, 1e-9))
        history.append(asdict(record))
        emit(record)
    seconds = time.perf_counter() - start
    final = {"dice_bce": losses_avg, "total": losses_avg}
    emit(TrainEvent("done", epoch, step, seconds, 0.0, final, None, best if best >= 0 else None))
    return TrainResult(epoch, step, seconds, best if best >= 0 else None, best_epoch, Path(out_path),
                       seen / max(seconds, 1e-9), history, stopped_by, ema.model)
