"""The click-conditioned network at inference: load once, answer one interaction state (clicks + previous mask)
on the zoom window round the object. Used by the interactive engine on the click path, so it is small."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from core.errors import CheckpointError
from core.interactive.click_inputs import CLICK_CHANNELS, from_window, network_input
from core.labels.crop import Crop
from core.runtime.device import select_device, set_cpu_threads
from core.runtime.predictor import forward_probability
from models.checkpoint import load_checkpoint
from models.preprocess import Normalisation
from models.unet import UNet

FLIP_AVERAGE = True  # answer = mean of the window and its mirror image (DDTI train: NoC@85 5.49 -> 5.32)
ENSEMBLE_KEY = "ensemble"  # metadata: file names, beside the checkpoint, of networks whose answers are averaged
MAX_ENSEMBLE = 5  # members besides the first: each costs a forward per click


class ClickPredictor:
    def __init__(self, model: UNet, metadata: dict, device: torch.device) -> None:
        self.model = model.to(device).eval().to(memory_format=torch.channels_last)
        self.metadata = metadata
        self.device = device
        self.resolution = int(metadata["resolution"])
        self.normalisation = Normalisation.from_dict(metadata["normalisation"])
        self._frozen: torch.jit.ScriptModule | None = None  # the network traced at the working size
        self.members: list[ClickPredictor] = []  # an ensemble's other networks (their answers are averaged)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", threads: int | None = None) -> ClickPredictor:
        """The click network in `path`, with the ensemble members its metadata names (files in its folder)."""
        set_cpu_threads(threads)
        dev = select_device(device)
        predictor = cls._load_one(Path(path), dev)
        predictor.members = [cls._load_one(member, dev) for member in ensemble_paths(Path(path), predictor.metadata)]
        return predictor

    @classmethod
    def _load_one(cls, path: Path, device: torch.device) -> ClickPredictor:
        model, meta = load_checkpoint(path, device=device, expect_channels=CLICK_CHANNELS)
        if meta.get("task") != "interactive":
            raise CheckpointError(path, "not a click-conditioned model (train one with --supervision interactive)")
        for key in ("resolution", "normalisation"):
            if key not in meta:
                raise CheckpointError(path, f"metadata lacks {key!r}")
        predictor = cls(model, meta, device)
        predictor.warm_up()
        return predictor

    def warm_up(self) -> None:
        """Trace and freeze the network at its one input size (the window is always resized to the working
        resolution), which runs a third faster than eager mode on CPU, then run it once so that the user's
        first click does not pay for allocation and kernel selection. Eager mode stays the fallback."""
        x = torch.zeros(1 + FLIP_AVERAGE, len(CLICK_CHANNELS), self.resolution, self.resolution, device=self.device)
        if self.resolution % self.model.stride == 0:
            try:
                with torch.inference_mode(), warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.9+ flags jit, still the fastest
                    example = x.contiguous(memory_format=torch.channels_last)
                    self._frozen = torch.jit.freeze(torch.jit.trace(self.model, example))
                    self._frozen(example)
            except Exception:  # an operator tracing cannot handle, or a torch without jit: eager mode it is
                self._frozen = None
        self._probability(x)

    def _probability(self, x: torch.Tensor) -> torch.Tensor:
        if self._frozen is None or x.shape[-2:] != (self.resolution, self.resolution):
            return forward_probability(self.model, x)
        with torch.inference_mode():
            return torch.sigmoid(self._frozen(x.contiguous(memory_format=torch.channels_last)).float())[:, 0]

    def predict(self, image_u8: np.ndarray, window: Crop, positives: np.ndarray, negatives: np.ndarray,
                prev_mask: np.ndarray | None) -> np.ndarray:
        """Nodule probability over `window` (window-sized float32); clicks are frame (x, y) arrays."""
        inputs: dict[tuple[int, Normalisation], np.ndarray] = {}  # members trained alike share one input
        args = (image_u8, window, positives, negatives, prev_mask, inputs)
        prob = self._predict_one(*args)
        if self.members:
            prob = (prob + sum(member._predict_one(*args) for member in self.members)) / (1 + len(self.members))
        return prob

    def _predict_one(self, image_u8: np.ndarray, window: Crop, positives: np.ndarray, negatives: np.ndarray,
                     prev_mask: np.ndarray | None, inputs: dict[tuple[int, Normalisation], np.ndarray]
                     ) -> np.ndarray:
        key = (self.resolution, self.normalisation)
        if key not in inputs:
            inputs[key] = network_input(image_u8, window, self.resolution, self.normalisation, positives, negatives,
                                        prev_mask)
        planes = inputs[key]
        batch = np.stack([planes, planes[:, :, ::-1]]) if FLIP_AVERAGE else planes[None]
        prob = self._probability(torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)).cpu().numpy()
        if FLIP_AVERAGE:  # the mirrored window's answer, mirrored back
            prob = 0.5 * (prob[:1] + prob[1:, :, ::-1])
        return from_window(prob[0], window)


def is_member_name(name: str) -> bool:
    """Whether `name` can name an ensemble member: a plain checkpoint file name (no folder)."""
    return Path(name).name == name and name.endswith(".safetensors")


def ensemble_paths(path: Path, metadata: dict) -> list[Path]:
    """The ensemble members a checkpoint's metadata names: plain file names in the checkpoint's own folder (a
    checkpoint cannot point anywhere else)."""
    names = metadata.get(ENSEMBLE_KEY, [])
    if not isinstance(names, list) or len(names) > MAX_ENSEMBLE or not all(isinstance(n, str) for n in names):
        raise CheckpointError(path, f"metadata {ENSEMBLE_KEY!r} must list at most {MAX_ENSEMBLE} file names")
    for name in names:
        if not is_member_name(name):
            raise CheckpointError(path, f"ensemble member {name!r} is not a checkpoint file beside this one")
        if not (path.parent / name).is_file():
            raise CheckpointError(path, f"ensemble member {name!r} is missing beside it")
    return [path.parent / name for name in names]
