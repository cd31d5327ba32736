"""An open project: its store, the worker threads that use it, and the scan that adds frames in the background.

Opening is quick (the database is created or opened on the GUI thread); listing the frames and reading new files
(add_frames decodes every frame of a video) happen on workers, so the window is usable while a large folder is
still being scanned, and its frames appear as they are read."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt5 import QtCore

from core.project.records import FrameRecord
from core.project.store import ProjectStore
from gui.drafts import draft_frame_ids
from gui.model_provider import ModelProvider
from gui.project_location import SOURCE_FOLDER_SETTING, OpenPlan, list_frame_files
from gui.status import FROM_STORE, DisplayStatus, display_status
from gui.workers import JobRunner

LAST_FRAME_SETTING = "gui.last_frame"
FLUSH_MS = 200  # scanned frames are added to the list in batches


def list_frames(store: ProjectStore) -> tuple[list[FrameRecord], dict[int, DisplayStatus]]:
    """Every frame with its displayed status (worker thread)."""
    records = store.frames()
    statuses = store.frame_statuses()
    drafts = draft_frame_ids(store)
    shown: dict[int, DisplayStatus] = {}
    for record in records:
        status = FROM_STORE[statuses[record.id]]
        if status == DisplayStatus.CALIPERS and record.id in drafts:  # the store counts a lone draft as calipers
            status = display_status(False, False, bool(store.calipers(record.id)), True, False)
        shown[record.id] = status
    return records, shown


def open_store(plan: OpenPlan) -> ProjectStore:
    """Create or open the plan's project and remember the folder of frames it belongs to."""
    store = ProjectStore.open(plan.project_dir) if plan.exists else ProjectStore.create(plan.project_dir)
    if plan.source_folder is not None:
        store.set_setting(SOURCE_FOLDER_SETTING, str(plan.source_folder))
    return store


class ProjectSession(QtCore.QObject):
    frames_added = QtCore.pyqtSignal(list, dict)  # records, their statuses
    listed = QtCore.pyqtSignal(object)  # the frames already in the project are listed; the last frame shown
    scan_progress = QtCore.pyqtSignal(int, int)  # files done, files in all
    scan_finished = QtCore.pyqtSignal()

    def __init__(self, store: ProjectStore, unhandled: Callable[[BaseException], None],
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.jobs = JobRunner("sonoclick-store", unhandled, self)
        self.aux_jobs = JobRunner("sonoclick-aux", unhandled, self)
        self._scanner = JobRunner("sonoclick-scan", unhandled, self)
        self.model = ModelProvider()
        self.scanning = False
        self._batch: list[FrameRecord] = []
        self._flush_timer = QtCore.QTimer(self)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)

    @property
    def folder(self) -> Path:
        return self.store.folder

    @property
    def idle(self) -> bool:
        return not self.scanning and self.jobs.idle and self.aux_jobs.idle

    def start(self, sources: list[Path]) -> None:
        """List the project's frames, then add `sources` (and any new file of its folder of frames)."""

        def work() -> tuple:
            records, statuses = list_frames(self.store)
            folder = self.store.get_setting(SOURCE_FOLDER_SETTING)
            return records, statuses, Path(folder) if folder else None, self.store.get_setting(LAST_FRAME_SETTING)

        self.jobs.submit(work, lambda result: self._on_listed(result, sources))

    def _on_listed(self, result: tuple, sources: list[Path]) -> None:
        records, statuses, folder, last_frame = result
        self.frames_added.emit(records, statuses)
        self.listed.emit(last_frame)
        self._scan(sources, folder)

    def _scan(self, sources: list[Path], folder: Path | None) -> None:
        self.scanning = True

        def gather() -> list[Path]:
            found = list(sources)
            if folder is not None and folder.is_dir():
                known = set(found)
                found += [p for p in list_frame_files(folder) if p not in known]
            return found

        def scan_all(paths: list[Path]) -> None:
            total = len(paths)
            self.scan_progress.emit(0, total)
            for i, path in enumerate(paths):
                self._scanner.submit(lambda p=path: self.store.add_frames([p]),
                                     lambda recs, n=i + 1: self._on_scanned(recs, n, total))
            self._scanner.submit(lambda: None, lambda _: self._scan_done())

        self._flush_timer.start()
        self._scanner.submit(gather, scan_all)

    def _on_scanned(self, records: list[FrameRecord], done: int, total: int) -> None:
        self._batch.extend(records)
        self.scan_progress.emit(done, total)

    def _flush(self) -> None:
        if self._batch:
            batch, self._batch = self._batch, []
            statuses = {r.id: DisplayStatus.UNREADABLE if r.error else DisplayStatus.UNLABELLED for r in batch}
            self.frames_added.emit(batch, statuses)

    def _scan_done(self) -> None:
        self._flush()
        self._flush_timer.stop()
        self.scanning = False
        self.scan_finished.emit()

    def remember_frame(self, frame_id: int) -> None:
        self.jobs.submit(lambda: self.store.set_setting(LAST_FRAME_SETTING, frame_id))

    def close(self) -> None:
        """Stop scanning, finish every queued write, close the database."""
        self._flush_timer.stop()
        self._scanner.shutdown(cancel_queued=True)
        self.aux_jobs.shutdown(cancel_queued=True)
        self.jobs.shutdown()
        self.model.close()
        self.store.close()
