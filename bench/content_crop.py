"""How much of each labelled object the scanner content box (models.preprocess.content_box) keeps: every
network sees only that box, so an object cropped away can be neither learned nor predicted.

    python bench/content_crop.py --data ../shared/data/busi [--data ../shared/data/ddti ...] [--outside 0.05]

Per dataset: masks with any foreground, how many lie more than --outside of their pixels outside the box (the
worst listed), and the box's mean share of the frame. Last stdout line JSON."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.io.dataset import list_dataset  # noqa: E402
from models.preprocess import content_box  # noqa: E402


def crop_report(data: Path, outside: float) -> dict:
    masks, cut, shares = 0, [], []
    for item in list_dataset(data):
        image = item.frame().gray_u8()
        x0, y0, x1, y1 = content_box(image)
        shares.append((x1 - x0) * (y1 - y0) / image.size)
        mask = item.mask()
        if mask is None or not mask.any():
            continue
        masks += 1
        kept = float(mask[y0:y1, x0:x1].sum() / mask.sum())
        if kept < 1.0 - outside:
            cut.append((round(kept, 3), item.stem))
    return {"data": data.name, "masks": masks, "cut": len(cut), "worst": sorted(cut)[:5],
            "mean_box_share": round(float(np.mean(shares)), 4)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, action="append", required=True)
    p.add_argument("--outside", type=float, default=0.05)
    args = p.parse_args()
    reports = [crop_report(data, args.outside) for data in args.data]
    for r in reports:
        print(f"{r['data']}: {r['cut']} of {r['masks']} masks more than {args.outside:.0%} outside the content box;"
              f" box {r['mean_box_share']:.1%} of the frame on average; worst (share kept, frame): {r['worst']}")
    print(json.dumps(reports))


if __name__ == "__main__":
    main()
