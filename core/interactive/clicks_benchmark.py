"""The RITM robot-user protocol over a dataset: clicks until IoU >= 0.90 or the click budget is spent, from
nothing, from calipers (counted as 4 clicks: four points placed) or from a box (counted as 2 clicks: one drag
is two corner placements, press and release)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.annotation.caliper_simulation import calipers_from_label_map, jitter_calipers
from core.annotation.sparse_simulation import object_boxes
from core.interactive.robot_user import next_click
from core.interactive.session import InteractionSession
from core.runtime.metrics import iou

if TYPE_CHECKING:
    from core.interactive.click_network import ClickPredictor

CALIPER_CLICKS = 4
BOX_CLICKS = 2
START_OPTIONS = ("none", "calipers", "box")
THRESHOLDS = (0.80, 0.85, 0.90)


@dataclass
class FrameRun:
    ious: list[float] = field(default_factory=list)  # IoU after click 1, 2, ... (calipers 4 clicks, a box 2)
    latencies_ms: list[float] = field(default_factory=list)  # one per add_click

    def noc(self, threshold: float, max_clicks: int) -> int:
        for k, value in enumerate(self.ious, start=1):
            if value >= threshold:
                return k
        return max_clicks


def run_frame(image: np.ndarray, truth: np.ndarray, start: str, max_clicks: int, jitter: float,
              rng: np.random.Generator, probability: np.ndarray | None = None,
              click_model: ClickPredictor | None = None) -> FrameRun:
    session = InteractionSession(image, probability, click_model)
    run = FrameRun()
    clicked = np.zeros(truth.shape, bool)
    if start == "calipers":
        calipers = calipers_from_label_map(truth)[0]
        mask = session.set_calipers(jitter_calipers(calipers, jitter, rng))
        run.ious = [0.0] * (CALIPER_CLICKS - 1) + [iou(mask, truth)]
    elif start == "box":
        corners = np.asarray(object_boxes(truth)[0], float)  # the largest object, as calipers take it
        if jitter > 0:
            corners = corners + rng.normal(0.0, jitter, size=4)
        mask = session.set_box(*corners)
        run.ious = [0.0] * (BOX_CLICKS - 1) + [iou(mask, truth)]
    else:
        mask = session.mask
    while len(run.ious) < max_clicks and (not run.ious or run.ious[-1] < max(THRESHOLDS)):
        click = next_click(truth, mask > 0.49 if mask.dtype != bool else mask, clicked)
        if click is None:
            run.ious.append(1.0)
            break
        clicked[click.y, click.x] = True
        start_time = time.perf_counter()
        mask = session.add_click(click.x, click.y, click.positive)
        run.latencies_ms.append(1000 * (time.perf_counter() - start_time))
        run.ious.append(iou(mask, truth))
    return run


def summarise(runs: list[FrameRun], max_clicks: int) -> dict:
    def filled(run: FrameRun, k: int) -> float:
        # after reaching the target the robot stops; its IoU stays where it was
        return run.ious[min(k, len(run.ious)) - 1] if run.ious else 0.0

    latencies = np.concatenate([r.latencies_ms for r in runs if r.latencies_ms] or [np.zeros(0)])
    out = {"n": len(runs)}
    for t in THRESHOLDS:
        out[f"noc{int(t * 100)}"] = round(float(np.mean([r.noc(t, max_clicks) for r in runs])), 3)
    out["fail90"] = int(sum(r.noc(0.90, max_clicks) >= max_clicks and max(r.ious, default=0) < 0.90 for r in runs))
    out["miou_at"] = [round(float(np.mean([filled(r, k) for r in runs])), 4) for k in range(1, 6)]
    out["latency_ms_p50"] = round(float(np.percentile(latencies, 50)), 2) if latencies.size else None
    out["latency_ms_p95"] = round(float(np.percentile(latencies, 95)), 2) if latencies.size else None
    return out
