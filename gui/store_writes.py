"""The store worker seen by the editor: writes run in order on it, and each frame's writes are counted until
they have landed, so the editor neither forgets such a frame nor reads it back before they are done."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from gui.workers import JobRunner


class StoreWrites:
    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        self._pending: Counter[int] = Counter()  # frame id -> writes queued or running

    def submit(self, frame_id: int, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run the write `work` of `frame_id` on the store worker; done(result) on the GUI thread."""
        self.submit_frames([frame_id], work, done)

    def submit_frames(self, frame_ids: Sequence[int], work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run the write `work`, which changes every frame of `frame_ids`, on the store worker; done(result) on the
        GUI thread."""
        frames = list(dict.fromkeys(frame_ids))
        self._pending.update(frames)

        def landed() -> None:
            for frame_id in frames:
                self._pending[frame_id] -= 1
                if self._pending[frame_id] <= 0:
                    del self._pending[frame_id]

        def ok(result: Any) -> None:
            landed()
            done(result)

        def failed(exc: BaseException) -> None:
            landed()
            self.runner.report(exc)

        self.runner.submit(work, ok, failed)

    def pending(self, frame_id: int) -> bool:
        """Whether writes of the frame are queued or running."""
        return self._pending[frame_id] > 0

    def frames(self) -> set[int]:
        """Frames with writes queued or running."""
        return set(self._pending)
