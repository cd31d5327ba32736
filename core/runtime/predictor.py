"""Inference engine: load a checkpoint once, predict nodule probability maps for frames of any size (and, for a
network with several heads, one map per class)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.errors import CheckpointError
from core.runtime.device import select_device, set_cpu_threads
from models.checkpoint import load_checkpoint
from models.networks import Network, heads_of
from models.preprocess import Box, Normalisation, content_box, crop_resize, paste_back
from models.presence_gate import gate_from_metadata, pooled_features


def _pad_to_stride(x: torch.Tensor, stride: int) -> tuple[torch.Tensor, int, int]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % stride, (-w) % stride
    if ph or pw:
        x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, h, w


@torch.inference_mode()
def forward_probabilities(model: Network, inputs: torch.Tensor, flip_tta: bool = False) -> torch.Tensor:
    """(B, C, H, W) normalised inputs -> (B, K, H, W) float32 probabilities, one map per head of the model;
    optional horizontal-flip averaging."""
    x, h, w = _pad_to_stride(inputs, model.stride)
    x = x.contiguous(memory_format=torch.channels_last)
    prob = torch.sigmoid(model(x).float())
    if flip_tta:
        prob = 0.5 * (prob + torch.sigmoid(model(x.flip(-1)).float()).flip(-1))
    return prob[:, :, :h, :w]


def forward_probability(model: Network, inputs: torch.Tensor, flip_tta: bool = False, head: int = 0) -> torch.Tensor:
    """(B, C, H, W) normalised inputs -> (B, H, W) float32 probabilities of one head (the first: the nodule)."""
    return forward_probabilities(model, inputs, flip_tta)[:, head]


def work_probabilities(model: Network, images_u8: list[np.ndarray], norm: Normalisation, device: torch.device,
                       extra: list[np.ndarray] | None = None, batch_size: int = 16,
                       flip_tta: bool = False, head: int = 0) -> list[np.ndarray]:
    """Working-resolution uint8 images (+ optional (E, R, R) extra channels) -> working-resolution maps of one
    head (the first: the nodule)."""
    was_training = model.training
    model.eval()
    out: list[np.ndarray] = []
    for start in range(0, len(images_u8), batch_size):
        chunk = [norm.apply(im)[None] for im in images_u8[start:start + batch_size]]
        if extra is not None:
            chunk = [np.concatenate([c, e.astype(np.float32)]) for c, e in zip(chunk, extra[start:start + batch_size])]
        x = torch.from_numpy(np.stack(chunk)).to(device)
        out.extend(forward_probability(model, x, flip_tta, head).cpu().numpy())
    model.train(was_training)
    return out


@dataclass(frozen=True)
class FramePrediction:
    """What the frame model says of one frame."""

    probability: np.ndarray  # (H, W) nodule probability as the product shows it: zero where the gate says no nodule
    presence: float | None  # the presence gate's probability that the frame holds a nodule (None: no gate)
    withheld: np.ndarray | None  # the segmenter's own map on a frame the gate blanked (None: not blanked)


class Predictor:
    """A loaded model. predict(image_u8) -> float32 (H, W) nodule probability in [0, 1] for a frame of any size;
    predict_classes(image_u8) -> {class name: map} for every head of the model (one call, one forward pass).
    A model with a presence gate (models.presence_gate, fitted where "no nodule" frames trained it) predicts no
    nodule on a frame the gate calls nodule-free; its other heads (the gland) are left as they are."""

    def __init__(self, model: Network, metadata: dict, device: torch.device, flip_tta: bool = False) -> None:
        self.model = model.to(device).eval().to(memory_format=torch.channels_last)
        self.metadata = metadata
        self.device = device
        self.flip_tta = flip_tta
        self.resolution = int(metadata["resolution"])
        self.normalisation = Normalisation.from_dict(metadata["normalisation"])
        self.input_channels = model.spec.input_channels
        self.heads = heads_of(model)
        self.gate = gate_from_metadata(metadata)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", threads: int | None = None,
             flip_tta: bool = False) -> Predictor:
        set_cpu_threads(threads)
        dev = select_device(device)
        model, meta = load_checkpoint(path, device=dev)
        for key in ("resolution", "normalisation"):
            if key not in meta:
                raise CheckpointError(path, f"metadata lacks {key!r}")
        return cls(model, meta, dev, flip_tta)

    @property
    def extra_channels(self) -> tuple[str, ...]:
        return tuple(c for c in self.input_channels if c != "image")

    def _prepare(self, image_u8: np.ndarray, extra: dict[str, np.ndarray] | None,
                 whole_frame: bool = False) -> tuple[np.ndarray, Box]:
        image = _gray_u8(image_u8)
        box = (0, 0, image.shape[1], image.shape[0]) if whole_frame else content_box(image)
        planes = [self.normalisation.apply(crop_resize(image, box, self.resolution))]
        extra = extra or {}
        missing = [c for c in self.extra_channels if c not in extra]
        if missing:
            raise ValueError(f"this model also needs input channel(s) {missing} (it was trained with "
                             f"{list(self.input_channels)}); use predict_with_channels")
        for name in self.extra_channels:
            plane = np.asarray(extra[name], np.float32)
            if plane.shape != image.shape:
                raise ValueError(f"channel {name!r} is {plane.shape}, the frame is {image.shape}")
            planes.append(crop_resize(plane, box, self.resolution))
        return np.stack(planes), box

    def predict_batch(self, images_u8: list[np.ndarray],
                      extras: list[dict[str, np.ndarray]] | None = None) -> list[np.ndarray]:
        return [maps[0] for maps in self._head_maps(images_u8, extras)[0]]

    def predict_frame(self, image_u8: np.ndarray) -> FramePrediction:
        """The nodule map, the presence gate's probability, and what the gate withheld (one forward pass)."""
        maps, presence, withheld = self._head_maps([image_u8], None)
        return FramePrediction(maps[0][0], None if presence is None else float(presence[0]), withheld[0])

    def predict_classes(self, image_u8: np.ndarray, extra: dict[str, np.ndarray] | None = None,
                        whole_frame: bool = False) -> dict[str, np.ndarray]:
        """{head name (e.g. 'nodule', 'thyroid gland'): float32 (H, W) probability} for a frame of any size.
        whole_frame: the frame is already cropped to the image (no scanner margins to cut)."""
        maps = self._head_maps([image_u8], [extra] if extra is not None else None, whole_frame)[0][0]
        return dict(zip(self.heads, maps))

    def _head_maps(self, images_u8: list[np.ndarray], extras: list[dict[str, np.ndarray]] | None,
                   whole_frame: bool = False
                   ) -> tuple[list[list[np.ndarray]], np.ndarray | None, list[np.ndarray | None]]:
        """Each image's maps (one per head, at its own size), the gate's presence probabilities (or None), and
        each image's nodule map as the segmenter made it where the gate blanked it (else None)."""
        prepared = [self._prepare(im, extras[i] if extras else None, whole_frame) for i, im in enumerate(images_u8)]
        x = torch.from_numpy(np.stack([p[0] for p in prepared])).to(self.device)
        prob, presence = self._probabilities(x)
        blanked = [False] * len(images_u8) if presence is None else (presence < self.gate.threshold).tolist()
        raw = prob.cpu().numpy()
        withheld = [paste_back(raw[i, 0], box, im.shape[:2]) if blanked[i] else None
                    for i, ((_, box), im) in enumerate(zip(prepared, images_u8))]
        for i in np.flatnonzero(blanked):
            raw[i, 0] = 0.0
        maps = [[paste_back(p, box, im.shape[:2]) for p in per_image]
                for per_image, (_, box), im in zip(raw, prepared, images_u8)]
        return maps, None if presence is None else presence.cpu().numpy(), withheld

    @torch.inference_mode()
    def _probabilities(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Every head's map, not gated, and the gate's presence probabilities (None without a gate)."""
        if self.gate is None:
            return forward_probabilities(self.model, x, self.flip_tta), None
        deepest: list[torch.Tensor] = []  # the deepest encoder level of the first (unflipped) pass
        hook = self.model.encoders[-1].register_forward_hook(lambda _m, _i, out: deepest.append(out))
        try:
            prob = forward_probabilities(self.model, x, self.flip_tta)
        finally:
            hook.remove()
        return prob, self.gate.probability(pooled_features(deepest[0]))

    def predict(self, image_u8: np.ndarray) -> np.ndarray:
        return self.predict_batch([image_u8])[0]

    def predict_with_channels(self, image_u8: np.ndarray, extra: dict[str, np.ndarray]) -> np.ndarray:
        """For models trained with extra inputs (e.g. 'ds_prior'): each extra map is (H, W) float at frame size."""
        return self.predict_batch([image_u8], [extra])[0]


def _gray_u8(image: np.ndarray) -> np.ndarray:
    from core.io.frame import Frame

    return Frame(np.asarray(image), Path("<array>")).gray_u8()
