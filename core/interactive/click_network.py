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


class ClickPredictor:
    def __init__(self, model: UNet, metadata: dict, device: torch.device) -> None:
        self.model = model.to(device).eval().to(memory_format=torch.channels_last)
        self.metadata = metadata
        self.device = device
        self.resolution = int(metadata["resolution"])
        self.normalisation = Normalisation.from_dict(metadata["normalisation"])
        self._frozen: torch.jit.ScriptModule | None = None  # the network traced at the working size

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", threads: int | None = None) -> ClickPredictor:
        set_cpu_threads(threads)
        dev = select_device(device)
        model, meta = load_checkpoint(path, device=dev, expect_channels=CLICK_CHANNELS)
        if meta.get("task") != "interactive":
            raise CheckpointError(path, "not a click-conditioned model (train one with --supervision interactive)")
        for key in ("resolution", "normalisation"):
            if key not in meta:
                raise CheckpointError(path, f"metadata lacks {key!r}")
        predictor = cls(model, meta, dev)
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
        planes = network_input(image_u8, window, self.resolution, self.normalisation, positives, negatives,
                               prev_mask)
        batch = np.stack([planes, planes[:, :, ::-1]]) if FLIP_AVERAGE else planes[None]
        prob = self._probability(torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)).cpu().numpy()
        if FLIP_AVERAGE:  # the mirrored window's answer, mirrored back
            prob = 0.5 * (prob[:1] + prob[1:, :, ::-1])
        return from_window(prob[0], window)
