"""A draft mask with no frame model: the click network's answer to one nodule click on a place a nodule is likely to
be, as if the user had clicked there. Used for frames tagged "nodule present" with nothing drawn (the tag trainer's
starting pseudo-labels) and by *Propose* before the project has a frame model.

Two places are tried: the frame's strongest dark spot near the middle (core.labels.dark_blob.dark_spot: nodules and
lesions are mostly darker than the tissue round them) and the middle of the ultrasound image (sonographers centre
the nodule); the answer the network is surer of (its mean probability over the mask) is kept. Neither place alone
serves both organs: with the starter on val frames, the dark spot's draft scores Dice 0.50 on breast and 0.29 on
thyroid, the middle's 0.39 and 0.56, the surer of the two 0.55 and 0.42 (README, "Tags from one click")."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from core.interactive.session import InteractionSession
from core.labels.dark_blob import dark_blob, dark_spot
from core.labels.proposal import largest_component
from models.preprocess import content_box

if TYPE_CHECKING:  # the GUI process drafts through a click model it never imports torch for
    from core.interactive.click_network import ClickPredictor

PLACES = ("dark_spot", "middle")
MIDDLE = (0.45, 0.5)  # the middle's (row, column) as fractions of the content box: nodules sit a little high


def one_click_draft(image: np.ndarray, click_model: ClickPredictor, exclude: np.ndarray | None = None,
                    places: tuple[str, ...] = PLACES) -> np.ndarray:
    """(H, W) uint8 frame -> (H, W) bool mask: of the click network's one-click answers at `places`, the part
    holding the click of the one it is surest of; the model-free dark blob where it calls nothing nodule.
    exclude: pixels never drafted (the frame's objects drawn already) nor clicked. The places are found inside
    the ultrasound image proper (models.preprocess.content_box), and the draft is kept inside it."""
    unknown = set(places) - set(PLACES)
    if unknown or not places:
        raise ValueError(f"unknown click places {sorted(unknown)}; choose from {list(PLACES)}")
    x0, y0, x1, y1 = content_box(image)
    inside = np.zeros(image.shape, bool)
    inside[y0:y1, x0:x1] = True  # nodules lie in the ultrasound image, not on its margin
    allowed = inside if exclude is None else inside & ~exclude
    best, surest = None, -1.0
    for row, col in click_places(image, exclude, places):
        if not allowed[row, col]:
            continue
        session = InteractionSession(image, probability=None, click_model=click_model)
        mask = session.add_click(col, row, True)
        probability = session.network_probability
        if probability is None or not (probability > 0.5).any():
            continue
        part = _part_at(mask & allowed, row, col)
        sureness = float(probability[part].mean())
        if sureness > surest:
            best, surest = part, sureness
    if best is not None:
        return best
    draft = np.zeros(image.shape, bool)
    draft[y0:y1, x0:x1] = dark_blob(image[y0:y1, x0:x1])
    return draft & allowed


def one_click_refinement(image: np.ndarray, probability: np.ndarray, click_model: ClickPredictor) -> np.ndarray:
    """(H, W) uint8 frame and a frame model's (H, W) nodule probability -> (H, W) bool mask: the largest part of
    the model's mask, answered by one nodule click at its deepest point with the model's probability as the prior,
    as a user refining a proposal with one click would (WIML's interactive annotation); the part of that answer
    holding the click. Empty where the model calls nothing nodule."""
    own = largest_component(probability > 0.5)
    if not own.any():
        return own
    depth = ndimage.distance_transform_edt(own)
    row, col = np.unravel_index(int(depth.argmax()), depth.shape)
    session = InteractionSession(image, probability=probability, click_model=click_model)
    mask = session.add_click(col, row, True)
    return _part_at(mask, row, col) if mask[row, col] else own


def _part_at(mask: np.ndarray, row: int, col: int) -> np.ndarray:
    """The 8-connected part of `mask` holding pixel (row, col)."""
    parts, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    return parts == parts[row, col]


def click_places(image: np.ndarray, exclude: np.ndarray | None = None, places: tuple[str, ...] = PLACES
                 ) -> list[tuple[int, int]]:
    """The (row, column) of each of `places` on the frame, found inside its content box, outside `exclude`."""
    x0, y0, x1, y1 = content_box(image)
    clicks = []
    for place in places:
        if place == "dark_spot":
            row, col = dark_spot(image[y0:y1, x0:x1], None if exclude is None else exclude[y0:y1, x0:x1])
            clicks.append((row + y0, col + x0))
        else:
            clicks.append((int(y0 + MIDDLE[0] * (y1 - y0)), int(x0 + MIDDLE[1] * (x1 - x0))))
    return clicks
