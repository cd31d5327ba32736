"""The frame network trained from any mix of frame-level labels (models.tag_losses: masks, "no nodule" and
"nodule present" tags, points) with the frame classifier and CLTN-style eraser of models.tag_net; batches draw
accepted masks at a share of at least `mask_share` when they are few (20 masks among 500 tags would otherwise
be seen once in 25 frames), every other frame from a shuffled stream, so an epoch is `items_per_epoch` frames
whatever the mix (equal budgets for different mixes)."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.errors import SonoClickError
from core.interactive.click_network import ClickPredictor
from core.interactive.one_click_draft import PLACES, one_click_draft, one_click_refinement
from core.interactive.starter_models import starter_click_path
from core.labels.dark_blob import dark_blob
from core.labels.proposal import largest_component
from core.training.augment import AugmentConfig, augment
from core.training.distributed import is_rank0
from core.training.loop import LoopConfig, TrainingTask, run_training
from core.training.presence_gate_fit import fit_checkpoint_gate
from core.training.progress import StopSignal, TrainEvent, TrainResult
from core.training.tag_data import TagFrame
from models.preprocess import DEFAULT_RESOLUTION, Normalisation
from models.presence_gate import NODULE_FRAMES_KEPT
from models.tag_losses import MASK, NO_NODULE, NODULE, PSEUDO, KindWeights, TagTermWeights, mixed_loss
from models.tag_net import TagNet, upsampled_cam
from models.unet import UNet, spec_from_preset


@dataclass
class TagTrainConfig(LoopConfig):
    preset: str = "tiny"
    resolution: int = DEFAULT_RESOLUTION
    items_per_epoch: int | None = None  # None: the number of training frames
    mask_share: float = 0.25
    # "no nodule" frames are drawn at most at this share of the batches (None: their natural share); on DDTI with
    # nodule-free crops (38 % of the frames) 0.2 gave nodule Dice 0.724 against 0.701 (bench/tags.py, 40 epochs,
    # seed 0), and 0.1 (with the gate below) kept the Dice within 0.01 of masks alone on both organs over three
    # seeds where 0.2 did not (README "Negatives at a tenth of the batches")
    negative_share: float | None = 0.1
    eraser: bool = True
    # self-training, when some frames have masks and others a "nodule present" tag alone: after this fraction of
    # the budget (epochs, else minutes) each tagged frame whose prediction holds nodule trains from then on towards
    # the largest part of it (kind PSEUDO); 0: never
    self_training_at: float = 0.5
    # after the first self-training, remake those masks from the network every this many epochs (0: once); on BUSI
    # (bench/tags.py, 40 epochs, 20 masks + tags) every 4 gave 0.582 / 0.545 (seeds 0 / 1) against once 0.566 / 0.507
    self_training_every: int = 4
    # with self-training: the tagged frames are not drawn until they have that mask. Their tag terms cost the
    # masks' Dice (bench/tags.py, BUSI, 40 epochs, seed 0: 20 masks + tags 0.412, the 20 masks alone 0.554,
    # self-training with the tags drawn 0.481, with them waiting 0.566)
    tags_wait: bool = True
    # "dark_blob": the frames tagged "nodule present" alone start from a draft that needs no model
    # (core.labels.dark_blob) as their pseudo-label, drawn from the first epoch, and self-training remakes it from
    # the network; "one_click": the same with the click network's answer to one click where a nodule is likely
    # (core.interactive.one_click_draft, at `tag_click_places`), the click network in `tag_click_model` (a checkpoint
    # path; None: the shipped starter); "none": they train by their tag terms (or wait, above)
    tag_start: str = "none"
    tag_click_model: str | None = None
    tag_click_places: tuple[str, ...] = PLACES
    # with tag_start "one_click": each self-training mask is the network's own answered by one nodule click at its
    # deepest point (core.interactive.one_click_draft.one_click_refinement), as a user refining a proposal would
    self_training_click: bool = False
    # self-training masks from the average of the network's map and its map of the mirrored frame, mirrored back
    # (the predictor's flip averaging, `predict --tta`)
    self_training_flip: bool = False
    # with "no nodule" frames among the training frames: fit the presence gate (models.presence_gate) after training
    # and save it with the weights
    presence_gate: bool = True
    # the gate's threshold: None, the plain 0.5; else lowered until it keeps this share of the training nodule
    # frames (models.presence_gate.fit_presence_gate)
    gate_nodule_frames_kept: float | None = NODULE_FRAMES_KEPT
    # 0: the saved weights are the last ones; the class head lives outside the averaged U-Net, and an average of
    # the U-Net alone would no longer match it
    ema_decay: float = 0.0
    kind_weights: KindWeights = field(default_factory=KindWeights)
    terms: TagTermWeights = field(default_factory=TagTermWeights)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def to_dict(self) -> dict:
        return asdict(self)


TAG_STARTS = ("none", "dark_blob", "one_click")


def _tag_click_model(cfg: TagTrainConfig) -> ClickPredictor | None:
    """The click network that drafts the tagged frames (tag_start "one_click"), else None."""
    if cfg.tag_start != "one_click":
        return None
    path = cfg.tag_click_model or starter_click_path()
    if path is None:
        raise SonoClickError("tag_start one_click needs a click network, and this build ships no starter")
    return ClickPredictor.load(path, threads=cfg.threads)


def _drafter(cfg: TagTrainConfig, click_model: ClickPredictor | None) -> Callable[[np.ndarray], np.ndarray]:
    """The tagged frames' starting pseudo-label for cfg.tag_start."""
    if cfg.tag_start == "dark_blob":
        return dark_blob
    assert click_model is not None
    places = tuple(cfg.tag_click_places)
    return lambda image: one_click_draft(image, click_model, places=places)


class _Streams:
    """Seeded draws: a mask frame with probability p_mask, else the next frame of a reshuffled stream of the
    rest (each seen once before any twice). negative_share: "no nodule" frames get a stream of their own, drawn
    with probability at most this share (a sweep tagged mostly "no nodule" would otherwise starve the frames
    that show a nodule), the rest split between masks and the other kinds as before. Zoomed-in crops (`zoomed`,
    core.training.negatives), with a nodule or without, share that stream: a nodule crop is drawn as often as a
    nodule-free one, so that the zoom says nothing of a nodule. `left_out`: frames never drawn."""

    def __init__(self, kinds: list[int], mask_share: float, rng: np.random.Generator,
                 negative_share: float | None = None, zoomed: list[bool] | None = None,
                 left_out: set[int] | None = None) -> None:
        self.rng = rng
        zoomed = zoomed or [False] * len(kinds)
        left_out = left_out or set()
        kinds = [-1 if i in left_out else k for i, k in enumerate(kinds)]
        apart = [i for i, k in enumerate(kinds) if k == NO_NODULE or (zoomed[i] and i not in left_out)]
        drawn = len(kinds) - len(left_out)
        capped = negative_share is not None and 0 < len(apart) < drawn
        self.p_negative = min(len(apart) / drawn, negative_share) if capped else 0.0
        negatives = apart if capped else []
        kept_apart = set(negatives)
        masks = [i for i, k in enumerate(kinds) if k == MASK and i not in kept_apart]
        rest = [i for i, k in enumerate(kinds) if k not in (MASK, -1) and i not in kept_apart]
        self.pools = [masks, rest, negatives]
        natural = len(masks) / max(len(masks) + len(rest), 1)
        self.p_mask = 1.0 if not rest else 0.0 if not masks else max(natural, mask_share)
        self.queues: list[list[int]] = [[], [], []]

    def draw(self) -> int:
        if self.p_negative and self.rng.random() < self.p_negative:
            pool = 2
        else:
            pool = 0 if self.rng.random() < self.p_mask else 1
        if not self.queues[pool]:
            self.queues[pool] = list(self.rng.permutation(self.pools[pool]))
        return int(self.queues[pool].pop())


class _TagTraining(nn.Module):
    def __init__(self, net: TagNet, cfg: TagTrainConfig, terms: TagTermWeights) -> None:
        super().__init__()
        self.net, self.cfg, self.terms = net, cfg, terms

    def forward(self, x: torch.Tensor, kinds: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.autocast(x.device.type, enabled=False):
            return mixed_loss(self.net, x, self.net(x), kinds, labels, self.cfg.kind_weights, self.terms)


def effective_terms(terms: TagTermWeights, kinds: list[int]) -> TagTermWeights:
    """The frame classifier trains only when some frame carries a "nodule present" tag alone: its CAM and the
    erasure serve those frames. Without them it only learns to tell the nodule-free frames apart, through the
    shared encoder, and that cost the nodule frames' masks (bench/tags.py, 40 epochs, masks + nodule-free crops,
    seed 0: DDTI Dice 0.639 with it, nodules over-segmented 1.45 x; 0.701 without)."""
    return terms if NODULE in kinds else replace(terms, frame_class=0.0)


class TagTask(TrainingTask):
    def __init__(self, frames: list[TagFrame], cfg: TagTrainConfig) -> None:
        if not frames:
            raise ValueError("no training frames")
        if cfg.tag_start not in TAG_STARTS:
            raise ValueError(f"unknown tag_start {cfg.tag_start!r}; choose one of {list(TAG_STARTS)}")
        if cfg.self_training_click and cfg.tag_start != "one_click":
            raise ValueError("self_training_click needs tag_start one_click (its click network)")
        self.frames, self.config = list(frames), cfg  # self-training relabels frames: the caller's list stays
        self.tag_net: TagNet | None = None
        kinds = {f.kind for f in self.frames}
        self.tagged = [i for i, f in enumerate(self.frames) if f.kind == NODULE]  # "nodule present" alone
        drafted = cfg.tag_start != "none" and bool(self.tagged)
        self.self_training = cfg.self_training_at > 0 and NODULE in kinds and (MASK in kinds or drafted)
        self.click_model = _tag_click_model(cfg) if drafted else None
        if drafted:
            draft = _drafter(cfg, self.click_model)
            for i in self.tagged:
                self.frames[i] = replace(self.frames[i], kind=PSEUDO, label=draft(self.frames[i].image))
        self.last_self_training: int | None = None  # the epoch of the latest round

    @property
    def size(self) -> int:
        return self.config.items_per_epoch or len(self.frames)

    def build(self, device: torch.device, rank: int) -> tuple[UNet, nn.Module]:
        cfg = self.config
        self.device = device
        self.rng = np.random.default_rng([cfg.seed, rank])
        self.started = time.perf_counter()
        self.streams = self._streams()
        self.norm = Normalisation.fitted([f.image for f in self.frames])
        unet = UNet(spec_from_preset(cfg.preset))
        self.tag_net = TagNet(unet, with_eraser=cfg.eraser).to(device)
        return unet, _TagTraining(self.tag_net, cfg, effective_terms(cfg.terms, [f.kind for f in self.frames]))

    def _streams(self) -> _Streams:
        cfg = self.config
        waiting = cfg.tags_wait and self.self_training
        left_out = {i for i, f in enumerate(self.frames) if waiting and f.kind == NODULE}
        return _Streams([f.kind for f in self.frames], cfg.mask_share, self.rng, cfg.negative_share,
                        [f.zoomed for f in self.frames], left_out)

    def batch(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        images, labels, kinds = [], [], []
        for _ in indices:
            f = self.frames[self.streams.draw()]
            label = f.label if f.label is not None else np.zeros(f.image.shape, bool)
            img, lab, _ = augment(f.image, label[None].astype(np.uint8), None, self.rng, self.config.augment)
            images.append(((img - self.norm.mean) / self.norm.std)[None])
            labels.append(lab)
            kinds.append(f.kind)
        x = torch.from_numpy(np.stack(images).astype(np.float32)).to(self.device)
        y = torch.from_numpy(np.stack(labels).astype(np.float32)).to(self.device)
        return x, torch.tensor(kinds, dtype=torch.long, device=self.device), y

    def validate(self, model: UNet) -> float | None:
        return None

    def refresh_targets(self, epoch: int, model: UNet) -> bool:
        """Self-training: once due, the frames tagged "nodule present" alone get the largest part of the network's
        own mask; with `self_training_every`, remade from the network every that many epochs after."""
        cfg = self.config
        if not self.self_training:
            return False
        if self.last_self_training is not None:
            if not cfg.self_training_every or epoch - self.last_self_training < cfg.self_training_every:
                return False
        else:
            due_by_epochs = bool(cfg.epochs) and epoch >= max(1, round(cfg.self_training_at * cfg.epochs))
            elapsed_s = time.perf_counter() - self.started
            due_by_clock = bool(cfg.minutes) and elapsed_s >= cfg.self_training_at * (cfg.minutes or 0) * 60
            if not (due_by_epochs or due_by_clock):
                return False
        assert self.tag_net is not None
        images = [self.frames[i].image for i in self.tagged]
        probabilities, _, _ = tag_predictions(self.tag_net, images, self.norm, self.device)
        if cfg.self_training_flip:
            mirrored, _, _ = tag_predictions(self.tag_net, [np.ascontiguousarray(im[:, ::-1]) for im in images],
                                             self.norm, self.device)
            probabilities = [0.5 * (p + m[:, ::-1]) for p, m in zip(probabilities, mirrored)]
        refine = self.click_model is not None and cfg.self_training_click
        for i, probability in zip(self.tagged, probabilities):
            image = self.frames[i].image
            own = (one_click_refinement(image, probability, self.click_model) if refine
                   else largest_component(probability > 0.5))
            if own.any():
                self.frames[i] = replace(self.frames[i], kind=PSEUDO, label=own)
        self.last_self_training = epoch
        if cfg.tags_wait:
            self.streams = self._streams()  # the frames with a mask of their own join the draws
        return True

    def checkpoint_metadata(self) -> dict:
        return {"resolution": self.config.resolution, "normalisation": self.norm.to_dict(),
                "preprocess": {"crop": "content_box", "resize": "square"}, "training": self.config.to_dict()}


def train_from_tags(frames: list[TagFrame], cfg: TagTrainConfig, out_path: str | Path,
                    on_event: Callable[[TrainEvent], None] | None = None, stop: StopSignal | None = None,
                    metadata: dict | None = None) -> tuple[TrainResult, TagNet, Normalisation]:
    """Train; the U-Net (the frame model the app uses) is saved at `out_path`; returns the run's result and the
    whole network (U-Net + class head) with its normalisation, for CAMs."""
    task = TagTask(frames, cfg)
    result = run_training(task, out_path, on_event, stop, metadata)
    if cfg.presence_gate and is_rank0() and Path(out_path).exists():
        fit_checkpoint_gate(out_path, [f.image for f in frames], [f.kind != NO_NODULE for f in frames],
                            cfg.gate_nodule_frames_kept)
    return result, task.tag_net.eval(), task.norm


@torch.inference_mode()
def tag_predictions(net: TagNet, images_u8: list[np.ndarray], norm: Normalisation, device: torch.device | str = "cpu",
                    batch_size: int = 16) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """One pass over the images: (nodule probability maps, CAMs normalised to [0, 1]) at the images' (working)
    resolution, and the frame classifier's probability that each image holds a nodule, (N,)."""
    was_training = net.training
    net.eval()
    probabilities, cams, presence = [], [], []
    for start in range(0, len(images_u8), batch_size):
        chunk = np.stack([norm.apply(im)[None] for im in images_u8[start:start + batch_size]])
        out = net(torch.from_numpy(chunk).to(device))
        probabilities.extend(torch.sigmoid(out.segmentation.float())[:, 0].cpu().numpy())
        cams.extend(upsampled_cam(out.cam.float(), chunk.shape[-2:]).cpu().numpy())
        presence.extend(torch.sigmoid(out.frame_logit.float()).cpu().numpy())
    net.train(was_training)
    return probabilities, cams, np.asarray(presence, np.float32)


def tag_maps(net: TagNet, images_u8: list[np.ndarray], norm: Normalisation, device: torch.device | str = "cpu",
             batch_size: int = 16) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(nodule probability maps, CAMs normalised to [0, 1]) at the images' (working) resolution."""
    probabilities, cams, _ = tag_predictions(net, images_u8, norm, device, batch_size)
    return probabilities, cams
