"""An open project: its store, the worker threads that use it (one per job, see gui/workers.py), its models,
and the scan that adds frames in the background.

Listing the frames and reading new files (add_frames decodes every frame of a video) happen on workers, so the
window is usable while a large folder is still being scanned, and its frames appear as they are read.

A read-only project (see core.project.location.open_project) is listed but never written: no scan for new files
(adding them would write), no remembered last frame."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt5 import QtCore

from core.project.display_status import list_frames, new_frame_status
from core.project.location import SOURCE_FOLDER_SETTING, files_to_import
from core.project.records import FrameRecord
from core.project.store import ProjectStore
from core.serving.frame_model import ModelProvider
from core.serving.process_pool import ModelProcess
from gui.workers import JobRunner, Workers

LAST_FRAME_SETTING = "gui.last_frame"
FLUSH_MS = 200  # scanned frames are added to the list in batches


class ProjectSession(QtCore.QObject):
    frames_added = QtCore.pyqtSignal(list, dict)  # records, their statuses
    listed = QtCore.pyqtSignal(object)  # the frames already in the project are listed; the last frame shown
    scan_progress = QtCore.pyqtSignal(int, int)  # files done, files in all
    scan_finished = QtCore.pyqtSignal()

    def __init__(self, store: ProjectStore, unhandled: Callable[[BaseException], None],
                 parent: QtCore.QObject | None = None, model_process: ModelProcess | None = None) -> None:
        super().__init__(parent)
        self.store = store
        # the load and model workers keep their priority: on a busy machine the next frame's image must not wait
        # for the CPU, and the model process (started from the model worker, whose niceness a child inherits)
        # lowers its own priority by itself
        self.workers = Workers(*(JobRunner(f"sonoclick-{job}", unhandled, self, yield_cpu=job in ("store", "aux"))
                                 for job in ("store", "load", "model", "aux")))
        self._scanner = JobRunner("sonoclick-scan", unhandled, self)
        self.model = ModelProvider(process=model_process)  # the app's model process outlives the project
        self.scanning = False
        self.last_frame: int | None = None  # the frame shown when the project was last closed, once listed
        self._batch: list[FrameRecord] = []
        self._flush_timer = QtCore.QTimer(self)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)

    @property
    def folder(self) -> Path:
        return self.store.folder

    @property
    def jobs(self) -> JobRunner:
        """The store worker: every write, in order, and the reads that must see them."""
        return self.workers.store

    @property
    def idle(self) -> bool:
        return not self.scanning and self.workers.idle

    @property
    def read_only(self) -> bool:
        """Whether edits are off (the store refuses every write)."""
        return self.store.read_only_reason is not None

    def start(self, sources: list[Path]) -> None:
        """List the project's frames, then add `sources` (and any new file of its folder of frames)."""

        def work() -> tuple:
            records, statuses = list_frames(self.store)
            folder = self.store.get_setting(SOURCE_FOLDER_SETTING)
            return records, statuses, Path(folder) if folder else None, self.store.get_setting(LAST_FRAME_SETTING)

        self.jobs.submit(work, lambda result: self._on_listed(result, sources))

    def _on_listed(self, result: tuple, sources: list[Path]) -> None:
        records, statuses, folder, last_frame = result
        self.last_frame = last_frame if isinstance(last_frame, int) else None
        self.frames_added.emit(records, statuses)
        self.listed.emit(last_frame)
        if self.read_only:
            self._scan_done()
        else:
            self._scan(sources, folder)

    def _scan(self, sources: list[Path], folder: Path | None) -> None:
        self.scanning = True

        def scan_all(paths: list[Path]) -> None:
            total = len(paths)
            self.scan_progress.emit(0, total)
            for i, path in enumerate(paths):
                self._scanner.submit(lambda p=path: self.store.add_frames([p]),
                                     lambda recs, n=i + 1: self._on_scanned(recs, n, total))
            self._scanner.submit(lambda: None, lambda _: self._scan_done())

        self._flush_timer.start()
        self._scanner.submit(lambda: files_to_import(sources, folder), scan_all)

    def _on_scanned(self, records: list[FrameRecord], done: int, total: int) -> None:
        self._batch.extend(records)
        self.scan_progress.emit(done, total)

    def _flush(self) -> None:
        if self._batch:
            batch, self._batch = self._batch, []
            statuses = {r.id: new_frame_status(r) for r in batch}
            self.frames_added.emit(batch, statuses)

    def _scan_done(self) -> None:
        self._flush()
        self._flush_timer.stop()
        self.scanning = False
        self.scan_finished.emit()

    def remember_frame(self, frame_id: int) -> None:
        """Reopen the project at this frame next time (not remembered in a read-only project)."""
        if self.read_only:
            return
        self.jobs.submit(lambda: self.store.set_setting(LAST_FRAME_SETTING, frame_id))

    def close(self) -> None:
        """Stop scanning, finish every queued write, close the database."""
        self._flush_timer.stop()
        self._scanner.shutdown(cancel_queued=True)
        self.model.close()  # first: a request waiting for the model process gets its answer (an error) now
        self.workers.shutdown()
        self.store.close()
