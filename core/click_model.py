"""The click-conditioned network at inference: load once, answer one interaction state (clicks + previous mask)
on the zoom window round the object. Used by the interactive engine on the click path, so it is small."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.click_inputs import CLICK_CHANNELS, from_window, network_input
from core.crop import Crop
from core.device import select_device, set_cpu_threads
from core.errors import CheckpointError
from core.inference import forward_probability
from models.checkpoint import load_checkpoint
from models.preprocess import Normalisation
from models.unet import UNet


class ClickPredictor:
    def __init__(self, model: UNet, metadata: dict, device: torch.device) -> None:
        self.model = model.to(device).eval().to(memory_format=torch.channels_last)
        self.metadata = metadata
        self.device = device
        self.resolution = int(metadata["resolution"])
        self.normalisation = Normalisation.from_dict(metadata["normalisation"])

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
        return cls(model, meta, dev)

    def predict(self, image_u8: np.ndarray, window: Crop, positives: np.ndarray, negatives: np.ndarray,
                prev_mask: np.ndarray | None) -> np.ndarray:
        """Nodule probability over `window` (window-sized float32); clicks are frame (x, y) arrays."""
        planes = network_input(image_u8, window, self.resolution, self.normalisation, positives, negatives,
                               prev_mask)
        x = torch.from_numpy(planes[None]).to(self.device)
        prob = forward_probability(self.model, x)[0].cpu().numpy()
        return from_window(prob, window)
