"""The main window's project half: opening a project (folder, file or project folder; falling back to a private
project when a new one cannot be made beside the frames; an existing one that cannot be written opens read-only,
with the amber bar of gui/read_only_banner.py), wiring its session, controllers and signals, closing it, and
choosing the first frame to show as the frame list fills."""
from __future__ import annotations

import gc
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.errors import SonoClickError
from core.project.display_status import DisplayStatus
from core.project.location import OpenPlan, fallback_plan, open_project, plan_open
from core.project.store import ProjectStore
from gui.controller import AnnotationController
from gui.project_session import ProjectSession
from gui.read_only_banner import ReadOnlyBanner
from gui.training_controller import TrainingController

log = logging.getLogger("sonoclick")
READ_ONLY_WHY = "its folder cannot be written here"  # the one way the app opens a project read-only


class ProjectActions:
    """Mixin of MainWindow: opening and closing projects."""

    # ----- projects ------------------------------------------------------------------------------------
    def open_path(self, path: str | Path, project_dir: str | Path | None = None) -> bool:
        """Open a project folder, a folder of frames, or one frame file; False (with a message) if impossible."""
        try:
            plan = plan_open(path, project_dir)
        except FileNotFoundError as exc:
            self.reporter.warn(str(exc))
            return False
        return self.open_plan(plan)

    def open_plan(self, plan: OpenPlan) -> bool:
        self.close_project()
        try:
            store = self._open_store(plan)
        except SonoClickError as exc:
            fallback = fallback_plan(plan)
            if fallback is None:
                self.reporter.warn(f"Cannot open the project: {exc}")
                return False
            log.warning("%s; using %s instead", exc, fallback.project_dir)
            return self.open_plan(fallback)
        log.info("opened project %s", plan.project_dir)
        self.session = ProjectSession(store, lambda exc: self.reporter.report(exc), self, self.model_process)
        self.controller = AnnotationController(store, self.session.workers, self.session.model, self)
        self.tools.controller = self.controller
        c = self.controller
        c.frame_loaded.connect(self._on_frame_loaded)
        c.changed.connect(self._schedule_redraw)
        c.status_changed.connect(self._on_status_changed)
        c.other_frames_changed.connect(self.refresh_frames)
        c.status_changed.connect(self.frame_tags.schedule_refresh)  # an accepted mask shows as nodule present
        c.other_frames_changed.connect(self.frame_tags.schedule_refresh)
        c.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        c.click_to_mask.connect(self._on_click_to_mask)
        c.current_object_changed.connect(lambda _: self._schedule_redraw())
        c.model_state.connect(self._on_model_state)
        self._connect_classes(c)
        self.training = TrainingController(store, self.training_dock, self.session.model,
                                           lambda exc: self.reporter.report(exc), self.training_options,
                                           self.controller.reload, self)
        c.status_changed.connect(self.training.note_status)
        self.training.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.training.show_frame_requested.connect(self.show_frame)
        self.training.frame_status.connect(self._on_status_changed)
        self.model_menu.project_opened(self.session, self.training)
        self.calibration.set_session(self.session)
        self.session.frames_added.connect(self._on_frames_added)
        self.session.listed.connect(self._on_listed)
        self.session.scan_progress.connect(self._on_scan_progress)
        self.session.scan_finished.connect(self._on_scan_finished)
        self._select_source = plan.select
        self.frame_list.clear()
        self.setWindowTitle(f"SonoClick — {self._project_title(plan.project_dir)}")
        self.recent.add(plan.project_dir)
        self.propagation.project_opened(store)
        banner = self.read_only_banner  # made now also to offer the copy of a project damaged while in use
        if store.read_only_reason is not None:
            banner.show_reason(self.session, READ_ONLY_WHY)
            self.statusBar().showMessage("Opened read-only: you can view and export; edits are off", 8000)
        self.session.start(plan.sources)
        # Everything alive now (modules, widgets, the project) lives as long as the window: keep it out of the
        # garbage collector's full passes, which otherwise walk it all and can stall the GUI for 50-100 ms.
        # (One full pass now, at opening, frees what the previous project left.)
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        return True

    @property
    def read_only_banner(self) -> ReadOnlyBanner:
        """The amber bar above the image (made on first use, so the window's layout code need not know it)."""
        banner = getattr(self, "_read_only_banner", None)
        if banner is None:
            banner = self._read_only_banner = ReadOnlyBanner(self)
            self.centralWidget().layout().insertWidget(0, banner)
            banner.copy_saved.connect(lambda folder: self.statusBar().showMessage(
                f"Copy saved in {folder}: open that folder (File ▸ Open project) to edit the copy", 15000))
            banner.copy_failed.connect(self.reporter.warn)
            self.reporter.backup_requested.connect(lambda: banner.offer_copy(self.session))
        return banner

    @staticmethod
    def _open_store(plan: OpenPlan) -> ProjectStore:
        """Create or open the project off the GUI thread (creating it writes the database); opening takes
        milliseconds, so the GUI thread waits for it."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sonoclick-open") as opener:
            return opener.submit(open_project, plan).result()

    @staticmethod
    def _project_title(project_dir: Path) -> str:
        return str(project_dir.parent if project_dir.name == ".sonoclick" else project_dir)

    def _remember_frame(self) -> None:
        if self.session is not None and self.controller is not None and self.controller.current_frame_id is not None:
            self.session.remember_frame(self.controller.current_frame_id)

    def close_project(self) -> None:
        if self.session is None:
            return
        self.cine.set_playing(False)
        self._remember_timer.stop()
        self._remember_frame()
        if self.training is not None:
            self.training.close()  # cancels a running training; the project keeps nothing from it
            self.training.deleteLater()
            self.training = None
        self.propagation.project_closed()
        self.frame_tags.range.clear()
        self.model_menu.project_closed()
        self.calibration.set_session(None)
        self.read_only_banner.clear()
        if self.controller is not None:
            self.controller.finish()
            self.controller.deleteLater()
        self.session.close()
        self.session.deleteLater()
        self.session = self.controller = self.tools.controller = None
        self._on_classes_changed([])  # the next project's classes, once read
        self._loaded = None
        self._on_model_state("")
        self.view.set_frame(None)
        self.frame_list.clear()

    @property
    def idle(self) -> bool:
        """No scan, load, engine computation or write in progress (tests wait for this)."""
        return self.session is None or (self.session.idle and self.controller is not None and self.controller.idle
                                        and self.propagation.idle and self.frame_tags.idle
                                        and self.proposals.idle)

    # ----- project events ------------------------------------------------------------------------------
    def _first_to_show(self, records: list, last_frame: int | None = None) -> int | None:
        """The opened file's first frame, else the frame shown last time, else the first readable one."""
        if self._select_source is not None:
            wanted = [r.id for r in records if r.source == self._select_source]
            return wanted[0] if wanted else None
        ids = [r.id for r in records]
        if last_frame in ids:
            return last_frame
        return next((r.id for r in records if r.readable), None)

    def _on_frames_added(self, records: list, statuses: dict) -> None:
        self.frame_list.add_frames(records, statuses)
        self.frame_tags.schedule_refresh()
        if self.controller is not None and self.controller.current_frame_id is None and records:
            first = self._first_to_show(records, self.session.last_frame if self.session else None)
            if first is not None:
                self.show_frame(first)

    def _on_listed(self, last_frame: int | None) -> None:
        if self.controller is None or self.controller.current_frame_id is not None:
            return
        records = [self.frame_list.record(f) for f in self.frame_list.frame_ids()]
        first = self._first_to_show([r for r in records if r is not None], last_frame)
        if first is not None:
            self.show_frame(first)

    def _on_scan_progress(self, done: int, total: int) -> None:
        self.frame_list.scanning_text = f"Reading files: {done} / {total}" if done < total else ""

    def _on_scan_finished(self) -> None:
        self.frame_list.scanning_text = ""
        self.frame_list.add_frames([], {})
        if self.controller is not None and self.controller.current_frame_id is None:
            ids = self.frame_list.frame_ids()
            readable = [f for f in ids if self.frame_list.status(f) != DisplayStatus.UNREADABLE]
            if ids:
                self.show_frame((readable or ids)[0])
            else:
                self.view.show_message("No frames found in this folder")

    def _on_status_changed(self, frame_id: int, status: DisplayStatus) -> None:
        self.frame_list.set_status(frame_id, status)
        if self.controller is not None and frame_id == self.controller.current_frame_id:
            self._update_frame_label()
            self._ask_spacing()  # an undo or redo may have taken a calibration back
