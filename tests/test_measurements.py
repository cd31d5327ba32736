"""Caliper lengths against hand-computed numbers, and the CSV."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from core.annotation.measurements import largest_long_axis, length_mm, measure, measure_clip
from core.annotation.points import Calipers
from core.io.measurements_csv import write_measurements_csv

# long axis: dx = 30, dy = 40 -> 50 px; short axis: dx = 8, dy = -6 -> 10 px
NODULE = Calipers((10.0, 20.0), (40.0, 60.0), (25.0, 40.0), (33.0, 34.0))
SPACING = (0.2, 0.1)  # (row mm, column mm)


def test_lengths_use_column_spacing_for_x_and_row_spacing_for_y() -> None:
    assert length_mm((0, 0), (10, 0), SPACING) == pytest.approx(1.0)
    assert length_mm((0, 0), (0, 10), SPACING) == pytest.approx(2.0)
    # long: hypot(30 * 0.1, 40 * 0.2) = hypot(3, 8) = sqrt(73)
    assert length_mm(NODULE.long_1, NODULE.long_2, SPACING) == pytest.approx(73**0.5)


def test_measure_rows_with_and_without_spacing() -> None:
    (row,) = measure({0: NODULE}, SPACING, "a.dcm", 3, "a_f0003")
    assert (row.name, row.source, row.frame_index, row.object_id) == ("a_f0003", "a.dcm", 3, 0)
    assert (row.long_axis_px, row.short_axis_px) == (pytest.approx(50.0), pytest.approx(10.0))
    assert row.long_axis_mm == pytest.approx(8.5440037)  # sqrt(9 + 64)
    assert row.short_axis_mm == pytest.approx(1.4422205)  # hypot(8 * 0.1, 6 * 0.2) = sqrt(0.64 + 1.44)
    (plain,) = measure({0: NODULE}, None, "b.png")
    assert plain.long_axis_mm is None and plain.short_axis_mm is None


def test_rows_are_sorted_by_object_id() -> None:
    rows = measure({2: NODULE, 0: NODULE}, None, "x.png")
    assert [r.object_id for r in rows] == [0, 2]


def test_csv(tmp_path: Path) -> None:
    rows = measure({0: NODULE}, SPACING, "a.dcm", 1, "a") + measure({1: NODULE}, None, "b.png", 0, "b")
    path = tmp_path / "out" / "measurements.csv"
    write_measurements_csv(path, rows)
    table = list(csv.DictReader(path.open()))
    assert table[0] == {
        "name": "a", "source": "a.dcm", "frame_index": "1", "object_id": "0", "long_axis_px": "50.000",
        "short_axis_px": "10.000", "long_axis_mm": "8.544", "short_axis_mm": "1.442", "scope": "frame",
        "method": "calipers",
    }
    assert (table[1]["object_id"], table[1]["long_axis_mm"], table[1]["short_axis_mm"]) == ("1", "", "")


def test_clip_row_is_the_frame_with_the_largest_long_axis() -> None:
    smaller = Calipers((10.0, 20.0), (30.0, 40.0), (20.0, 30.0), (22.0, 28.0))
    larger = Calipers((0.0, 0.0), (60.0, 0.0), (30.0, -5.0), (30.0, 5.0))
    by_frame = {0: {0: smaller, 1: larger}, 3: {0: larger}, 5: {0: smaller, 1: smaller}}
    rows = measure_clip(by_frame, SPACING, "c.dcm", "c")
    assert [(r.object_id, r.frame_index, r.scope) for r in rows] == [(0, 3, "clip"), (1, 0, "clip")]
    assert rows[0].long_axis_px == pytest.approx(60.0) and rows[0].short_axis_px == pytest.approx(10.0)
    assert rows[0].long_axis_mm == pytest.approx(6.0)
    assert largest_long_axis({}) is None
    assert measure_clip({2: {0: larger}}, None, "c.dcm") == []  # one measured frame: its frame row says it all


def test_clip_row_says_its_method_and_uses_its_frames_spacing() -> None:
    smaller = Calipers((10.0, 20.0), (30.0, 40.0), (20.0, 30.0), (22.0, 28.0))
    larger = Calipers((0.0, 0.0), (60.0, 0.0), (30.0, -5.0), (30.0, 5.0))
    by_frame = {0: {0: smaller}, 3: {0: larger}}
    (row,) = measure_clip(by_frame, SPACING, "c.avi", "c", derived={(3, 0)}, spacing_by_frame={3: (0.5, 0.5)})
    assert (row.frame_index, row.method, row.long_axis_mm) == (3, "derived", pytest.approx(30.0))
    (placed,) = measure_clip(by_frame, SPACING, "c.avi", "c", derived={(0, 0)})
    assert (placed.method, placed.long_axis_mm) == ("calipers", pytest.approx(6.0))
