"""*Propose* with no frame model, and the tag trainer's one_click start: how good is the click network's answer to
one click where a nodule is likely (core.interactive.one_click_draft), at the frame's own resolution, as the app
computes it.

    python bench/one_click_draft.py --data ../shared/data/ddti --split ../shared/data/ddti/splits/val.txt
        [--click-model starter|PATH] [--limit N] [--threads 1]

Per frame with a nodule mask: Dice of the draft with the click on the dark spot alone, on the middle alone, and
the surer of the two (the default), whether the dark spot lies in the nodule, and beside them the model-free dark
blob and a centred ellipse (core.labels.proposal), both inside the content box. Frames whose mask is empty are
skipped. Last stdout line JSON."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.interactive.click_network import ClickPredictor  # noqa: E402
from core.interactive.one_click_draft import PLACES, click_places, one_click_draft  # noqa: E402
from core.interactive.starter_models import resolve_model_argument  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402
from core.labels.dark_blob import dark_blob  # noqa: E402
from core.labels.proposal import propose_mask  # noqa: E402
from core.runtime.metrics import dice  # noqa: E402
from models.preprocess import content_box  # noqa: E402


def _in_box(image: np.ndarray, make) -> np.ndarray:
    x0, y0, x1, y1 = content_box(image)
    out = np.zeros(image.shape, bool)
    out[y0:y1, x0:x1] = make(image[y0:y1, x0:x1])
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--split", type=Path)
    p.add_argument("--click-model", default="starter")
    p.add_argument("--limit", type=int)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    click_model = ClickPredictor.load(resolve_model_argument(args.click_model, "click"), threads=args.threads)
    items = list_dataset(args.data, args.split)[: args.limit]
    variants = {"one_click": PLACES, **{f"one_click_{place}": (place,) for place in PLACES}}
    rows: dict[str, list[float]] = {k: [] for k in [*variants, "dark_blob", "ellipse", "dark_spot_inside"]}
    seconds = 0.0
    for item in items:
        truth = item.mask()
        if truth is None or not truth.any():
            continue
        image, truth = item.frame().gray_u8(), truth > 0
        for name, places in variants.items():
            started = time.perf_counter()
            draft = one_click_draft(image, click_model, places=places)
            seconds += time.perf_counter() - started if name == "one_click" else 0.0
            rows[name].append(dice(draft, truth))
        rows["dark_blob"].append(dice(_in_box(image, dark_blob), truth))
        rows["ellipse"].append(dice(_in_box(image, lambda im: propose_mask(im, None, "ellipse")), truth))
        (row, col), = click_places(image, places=("dark_spot",))
        rows["dark_spot_inside"].append(float(truth[row, col]))
    n = len(rows["ellipse"])
    result = {k: round(float(np.mean(v)), 4) for k, v in rows.items()}
    result.update(frames=n, click_model=args.click_model, data=str(args.data),
                  ms_per_draft=round(1000 * seconds / max(n, 1), 1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
