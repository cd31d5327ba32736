"""After a frame model has trained on frames that include "no nodule" ones: fit its presence gate
(models.presence_gate) on the training frames with the network frozen, and write it into the checkpoint."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from models.checkpoint import load_checkpoint, save_checkpoint
from models.networks import Network
from models.preprocess import Normalisation
from models.presence_gate import (
    METADATA_KEY,
    PresenceGate,
    enough_of_each,
    fit_presence_gate,
    lowered_to_keep,
    pooled_features,
)
from models.unet import encode


@torch.inference_mode()
def gate_features(model: Network, images_u8: list[np.ndarray], norm: Normalisation,
                  device: torch.device | str = "cpu", batch_size: int = 32) -> np.ndarray:
    """(N, 2C) pooled deepest-encoder features of working-resolution uint8 images."""
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(images_u8), batch_size):
        chunk = np.stack([norm.apply(im)[None] for im in images_u8[start:start + batch_size]])
        deepest = encode(model.encoders, torch.from_numpy(chunk).to(device))[-1]
        out.append(pooled_features(deepest).cpu().numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def gate_keeps(model: Network, gate: PresenceGate, images_u8: list[np.ndarray], norm: Normalisation,
               device: torch.device | str = "cpu") -> np.ndarray:
    """(N,) bool: which images the gate lets a nodule through on."""
    if not images_u8:
        return np.zeros(0, bool)
    features = torch.from_numpy(gate_features(model, images_u8, norm, device))
    return gate.keeps(features).numpy()


def fit_gate(model: Network, norm: Normalisation, images_u8: list[np.ndarray], has_nodule: list[bool],
             nodule_frames_kept: float | None = None,
             held_out_nodule_images: list[np.ndarray] | None = None) -> PresenceGate | None:
    """The gate of a single-input model fitted on its training frames (working resolution, unaugmented); None when
    there are too few frames of a class or the model takes extra input channels. `nodule_frames_kept`: see
    models.presence_gate.fit_presence_gate; with it, `held_out_nodule_images`: see kept_on_held_out."""
    labels = np.asarray(has_nodule, bool)
    if not enough_of_each(labels) or len(model.spec.input_channels) != 1:
        return None
    gate = fit_presence_gate(gate_features(model, images_u8, norm), labels, nodule_frames_kept=nodule_frames_kept)
    if gate is not None and held_out_nodule_images and nodule_frames_kept is not None:
        gate = kept_on_held_out(gate, model, norm, held_out_nodule_images, nodule_frames_kept)
    return gate


def fit_checkpoint_gate(path: str | Path, images_u8: list[np.ndarray], has_nodule: list[bool],
                        nodule_frames_kept: float | None = None,
                        held_out_nodule_images: list[np.ndarray] | None = None) -> PresenceGate | None:
    """fit_gate for the model at `path`, written into its checkpoint (untouched when there is no gate to fit)."""
    labels = np.asarray(has_nodule, bool)
    if not enough_of_each(labels):
        return None  # before loading anything: most rounds have no "no nodule" frame
    model, meta = load_checkpoint(path)
    gate = fit_gate(model, Normalisation.from_dict(meta["normalisation"]), images_u8, list(labels),
                    nodule_frames_kept, held_out_nodule_images)
    if gate is not None:
        save_checkpoint(path, model, {**meta, METADATA_KEY: gate.to_dict()})
    return gate


def kept_on_held_out(gate: PresenceGate, model: Network, norm: Normalisation, nodule_images_u8: list[np.ndarray],
                     nodule_frames_kept: float) -> PresenceGate:
    """The gate lowered, where needed, to keep `nodule_frames_kept` of nodule frames the network never trained on
    as well. On its own training frames a network is surer than on new ones, so a threshold that keeps 98 % of
    those blanked 4-5 of 80 BUSI val lesion frames in the background trainer's path (bench/project_negatives.py)."""
    return lowered_to_keep(gate, gate_features(model, nodule_images_u8, norm), nodule_frames_kept)
