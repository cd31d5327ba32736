"""The calibration tool's own steps, with a recording store standing in for the project: two points, the distance
asked once with their length, the store called with both points, the distance and the scope; cancelling or two
equal points store nothing; the spacing text says where millimetres come from."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from gui.calibration_tool import CalibrationTool, spacing_text  # noqa: E402


@dataclass(frozen=True)
class Stored:
    mm_per_px: float


class RecordingStore:
    read_only_reason: str | None = None  # writable

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def set_calibration(self, frame_id: int, p1: tuple, p2: tuple, mm: float, scope: str) -> Stored:
        self.calls.append((frame_id, p1, p2, mm, scope))
        return Stored(mm / 100.0)


class RunNow:
    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None) -> None:
        result = fn()
        if on_done is not None:
            on_done(result)


class FakeSession:
    def __init__(self) -> None:
        self.store = RecordingStore()
        self.jobs = RunNow()


def _tool(qtbot, answer: tuple[float, str] | None) -> tuple[CalibrationTool, FakeSession, list, list]:
    asked: list[float] = []
    messages: list[str] = []

    def ask(length: float) -> tuple[float, str] | None:
        asked.append(length)
        return answer

    tool = CalibrationTool(ask)
    session = FakeSession()
    tool.set_session(session)  # type: ignore[arg-type]
    tool.message.connect(messages.append)
    return tool, session, asked, messages


def test_two_points_and_a_distance_are_stored_for_the_chosen_scope(qtbot) -> None:
    tool, session, asked, messages = _tool(qtbot, (20.0, "folder"))
    tool.start()
    tool.add_point(3, 10.0, 10.0)
    assert tool.points == [(10.0, 10.0)] and asked == [] and "second point" in messages[-1]
    with qtbot.waitSignal(tool.spacing_changed, timeout=1000):
        tool.add_point(3, 70.0, 90.0)
    assert asked == [100.0] and tool.points == []
    assert session.store.calls == [(3, (10.0, 10.0), (70.0, 90.0), 20.0, "folder")]
    assert messages[-1].startswith("Calibrated: 0.2000 mm per pixel for every frame of this folder")


def test_cancel_or_two_equal_points_store_nothing(qtbot) -> None:
    tool, session, asked, messages = _tool(qtbot, None)
    tool.add_point(1, 5.0, 5.0)
    tool.add_point(1, 5.2, 5.0)  # the same point: asked again for the second
    assert asked == [] and tool.points == [(5.0, 5.0)] and "must differ" in messages[-1]
    tool.add_point(1, 50.0, 5.0)
    assert asked == [45.0] and session.store.calls == [] and messages[-1] == "Calibration cancelled"
    tool.add_point(None, 1.0, 1.0)  # no frame shown: ignored
    assert tool.points == []


def test_spacing_text_says_where_millimetres_come_from() -> None:
    assert spacing_text(None, "none") == "no mm (calibrate: L)"
    assert spacing_text((0.1, 0.2), "file") == "0.200×0.100 mm/px"
    assert spacing_text((0.25, 0.25), "frame") == "0.250×0.250 mm/px (calibrated: frame)"
