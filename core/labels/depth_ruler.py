"""Finding the depth ruler's ticks on an ultrasound frame, to propose a calibration (core.project.calibration).

A scanner draws the depth scale as a column of short bright horizontal ticks at equal intervals (typically
every 1 cm, sometimes with 5 mm ticks between). Ticks are found as horizontal bright bars: each pixel's mean over
a short horizontal run, minus the brighter of the runs a few rows above and below (a vertical line, such as the
ruler's spine or the image's edge, cancels out). In every column the peaks of that response are the candidate
ticks (those standing out by 4 robust standard deviations of the response over the image, and by 30 % of its
strongest), each centred at the response's centroid round it (sub-pixel). The longest run of them at one
constant interval (within a pixel; a single faint tick may be missing) is that column's ruler, provided the run
holds most of the column's peaks over its extent (speckle gives many peaks, a few of them evenly spaced by
chance) and lies on a dark background (scanners draw the ruler on the black margin beside the image; evenly
spaced bright echoes in tissue sit on grey); the column with the longest run wins. The interval is the
least-squares slope of the tick centres against their number. Ticks may be short bars or dots.

The ticks' interval in mm is not on the image in a form read here: the user confirms it (e.g. 10 mm) and the
proposal becomes a calibration from the first to the last tick. Vertical rulers only.

  find_ruler_ticks(image) -> RulerTicks | None
  ticks.calibration_points() -> ((x, first tick), (x, last tick));  ticks.distance_mm(interval_mm)
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.signal import find_peaks

_RUN = 5  # px: the horizontal run a tick covers at least
_OFFSET = 3  # px: rows above and below a tick that are background
_MIN_INTERVAL = 15.0  # px between ticks, at least
_TOLERANCE = 1.0  # px: how far a tick's centre may sit from its place in an even run
_NOISE_SIGMAS = 4.0  # a tick stands out from the image's texture by this many (robust) standard deviations
_CLEAN = 2 / 3  # of the strong peaks between the first and last tick, at least this share are ticks of the run
_DARK = 0.15  # the ruler's background between ticks is at most this bright, relative to the ticks


@dataclass(frozen=True)
class RulerTicks:
    x: float  # column of the ticks (pixels, x = column)
    rows: tuple[float, ...]  # tick centres, top to bottom, evenly spaced
    interval_px: float  # between consecutive ticks
    numbers: tuple[int, ...]  # each tick's place in the run (0 for the first; a number is skipped where a tick
    # was too faint to be found)

    def calibration_points(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The first and the last tick, as the two points of a calibration."""
        return (self.x, self.rows[0]), (self.x, self.rows[-1])

    def distance_mm(self, interval_mm: float) -> float:
        """The distance between the first and the last tick when consecutive ticks are `interval_mm` apart."""
        return (self.numbers[-1] - self.numbers[0]) * interval_mm


def _gray(image: np.ndarray) -> np.ndarray:
    return (image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)).astype(np.float32)


def tick_response(image: np.ndarray) -> np.ndarray:
    """Per pixel, how much a short horizontal bright bar stands out from the rows above and below it."""
    run = cv2.blur(_gray(image), (_RUN, 1), borderType=cv2.BORDER_REFLECT)
    above = np.roll(run, _OFFSET, axis=0)
    below = np.roll(run, -_OFFSET, axis=0)
    above[:_OFFSET], below[-_OFFSET:] = run[:_OFFSET], run[-_OFFSET:]
    return run - np.maximum(above, below)


def _even_run(peaks: np.ndarray, min_ticks: int) -> tuple[np.ndarray, np.ndarray]:
    """The longest run of `peaks` (sorted rows) at one constant interval, one missing tick at a time allowed:
    (indices into peaks, tick numbers counted from the first); empty when under min_ticks ticks."""
    best: list[tuple[int, int]] = []
    for i in range(len(peaks)):
        for j in range(i + 1, len(peaks)):
            interval = peaks[j] - peaks[i]
            if interval < _MIN_INTERVAL:
                continue
            if (peaks[-1] - peaks[i]) / interval + 1 <= len(best):
                break  # a larger interval cannot give a longer run from here
            run = [(i, 0), (j, 1)]
            while True:
                last, number = run[-1]
                pitch = (peaks[last] - peaks[i]) / number  # refined as the run grows
                for step in (1, 2):
                    gap = np.abs(peaks - (peaks[last] + step * pitch))
                    k = int(np.argmin(gap))
                    if gap[k] <= _TOLERANCE and k > last:
                        run.append((k, number + step))
                        break
                else:
                    break
            if len(run) > len(best):
                best = run
    if len(best) < min_ticks:
        return np.empty(0, int), np.empty(0, int)
    return np.array([k for k, _ in best]), np.array([n for _, n in best])


def find_ruler_ticks(image: np.ndarray, min_ticks: int = 4) -> RulerTicks | None:
    """The depth ruler's ticks on a frame ((H, W) gray or (H, W, 3) BGR), or None when no column holds at least
    `min_ticks` evenly spaced ticks."""
    gray = _gray(np.asarray(image))
    response = tick_response(gray)
    median = float(np.median(response))
    sigma = 1.4826 * float(np.median(np.abs(response - median)))
    threshold = max(0.3 * float(response.max()), median + _NOISE_SIGMAS * sigma)
    if not threshold > 0:
        return None
    best: tuple[int, float, int, np.ndarray, np.ndarray] | None = None  # count, response, column, rows, numbers
    for x in np.flatnonzero((response > threshold).sum(axis=0) >= min_ticks):
        profile = response[:, x]
        peaks, _ = find_peaks(profile, height=threshold, distance=int(_MIN_INTERVAL // 2))
        centres = np.array([_centroid(profile, r) for r in peaks])
        found, numbers = _even_run(centres, min_ticks)
        run = peaks[found]
        inside = np.count_nonzero((peaks >= run[0]) & (peaks <= run[-1])) if len(run) else 0
        if len(run) == 0 or len(run) < _CLEAN * inside or not _on_dark_margin(gray, int(x), run):
            continue  # no run, one lost among as many other peaks (texture), or bright structures in tissue
        score = (len(run), float(profile[run].sum()))
        if best is None or score > best[:2]:
            best = (*score, int(x), centres[found], numbers)
    if best is None:
        return None
    _, _, x, rows, numbers = best
    interval = float(np.polyfit(numbers, rows, 1)[0])
    return RulerTicks(float(x), tuple(float(r) for r in rows), interval, tuple(int(n) for n in numbers))


def _on_dark_margin(gray: np.ndarray, x: int, ticks: np.ndarray) -> bool:
    """Whether the rows between the ticks are dark beside the ticks themselves, as on the black margin where a
    scanner draws its ruler (evenly spaced bright echoes inside the image sit on grey tissue)."""
    band = gray[:, max(x - 2, 0) : x + 3]
    rows = np.arange(ticks[0], ticks[-1] + 1)
    between = rows[np.min(np.abs(rows[:, None] - ticks[None, :]), axis=1) > _OFFSET]
    tick_level = float(np.median(band[ticks].max(axis=1)))  # a tick may be a dot narrower than the band
    return len(between) > 0 and float(np.median(band[between].mean(axis=1))) < _DARK * tick_level


def _centroid(profile: np.ndarray, peak: int) -> float:
    lo, hi = max(peak - 2, 0), min(peak + 3, len(profile))
    weights = np.clip(profile[lo:hi], 0, None)
    return float(peak) if weights.sum() == 0 else float((np.arange(lo, hi) * weights).sum() / weights.sum())
