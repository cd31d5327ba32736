"""Background training seen from the GUI: owns the project's BackgroundTrainer (the model
trains in a child process, never in the app's), feeds its events to the training dock, starts it from the Train
button or after N newly labelled frames, and, when a run produces a better version (or the user pins one), points
the project's "model_path" at it and recomputes the predictions of unlabelled frames in the background.

Threads: the trainer's callbacks come from its reader threads and are forwarded to the GUI thread through queued
signals. Everything that touches the store or the disk (snapshot + start, the version list, pin, predictions,
the uncertainty ranking) runs on this module's own worker threads, so the GUI thread never waits on them."""
from __future__ import annotations

import logging
import threading
from typing import Any

from PyQt5 import QtCore

from core.learning.background_trainer import DEFAULT_AUTO_AFTER, BackgroundTrainer, TrainingOutcome
from core.learning.click_counts import clicks_of_frame
from core.learning.job_process import JobState
from core.learning.suggest import rank_unlabelled
from core.learning.versions import CURRENT_KEY, ModelRegistry, ModelVersion
from core.project.display_status import FROM_STORE, DisplayStatus
from core.project.records import FrameStatus
from core.project.store import ProjectStore
from core.serving.frame_model import ModelProvider, switch_model
from gui.learning_panel import click_outcome_text
from gui.read_only_banner import refused
from gui.training_dock import TrainingDock
from gui.training_options import TrainingOptions
from gui.training_texts import outcome_text
from gui.workers import JobRunner

OPTIONS_SETTING = "trainer.options"  # optional project overrides: {"minutes", "epochs", "preset", "resolution"}
LABELLED = (DisplayStatus.CALIPERS, DisplayStatus.ACCEPTED)
CANCEL_WAIT_S = 0.5  # closing waits at most this long for the trainer to go (it is asked to end at once)
log = logging.getLogger("sonoclick")


class _Relay(QtCore.QObject):
    event = QtCore.pyqtSignal(object)
    finished = QtCore.pyqtSignal(object)


class TrainingController(QtCore.QObject):
    message = QtCore.pyqtSignal(str)  # for the status bar
    show_frame_requested = QtCore.pyqtSignal(int)
    frame_status = QtCore.pyqtSignal(int, object)  # frame id, DisplayStatus (a frame got a new prediction)
    run_ended = QtCore.pyqtSignal(object)  # TrainingOutcome, on the GUI thread
    predictions_refreshed = QtCore.pyqtSignal(int)  # frames given a prediction by the new model

    def __init__(self, store: ProjectStore, dock: TrainingDock, model: ModelProvider | None,
                 unhandled: Any, options: TrainingOptions | None = None,
                 reload_frame: Any = None, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.dock = dock
        self._model = model
        self._reload_frame = reload_frame  # frame id -> None: drop a cached frame so it shows the new prediction
        self.options = options or TrainingOptions()
        self._jobs = JobRunner("sonoclick-train", unhandled, self)  # snapshot + start, versions, pin, ranking
        self._predict_jobs = JobRunner("sonoclick-predict", unhandled, self)
        self._relay = _Relay(self)
        self._relay.event.connect(self._on_event, QtCore.Qt.QueuedConnection)
        self._relay.finished.connect(self._on_finished, QtCore.Qt.QueuedConnection)
        self._closed = False
        self._refresh_generation = 0
        self._refreshing = 0  # prediction jobs still queued
        self.trainer = BackgroundTrainer(store, store.folder, self._forward_event, self._forward_finished,
                                         self.options.minutes, self.options.epochs, self.options.preset,
                                         self.options.resolution, self.options.watchdog_s)
        self._labelled: set[int] | None = None  # frames labelled so far (None until read from the store)
        self._pending: list[int] = []
        self._new_labelled = 0
        self._auto_after = DEFAULT_AUTO_AFTER
        self._latest_step: dict | None = None
        self._step_timer = QtCore.QTimer(self)
        self._step_timer.setSingleShot(True)
        self._step_timer.setInterval(150)  # step events are coalesced: the label changes a few times a second
        self._step_timer.timeout.connect(self._show_latest_step)
        self.outcomes: list[TrainingOutcome] = []
        self._accepted_seen: set[int] = set()  # frames whose accepted mask is already on the clicks plot
        dock.train_clicked.connect(self.train)
        dock.stop_clicked.connect(self.stop)
        dock.cancel_clicked.connect(self.cancel)
        dock.pin_requested.connect(lambda name: refused(self.store, self.message.emit) or self.pin(name))
        dock.unpin_requested.connect(lambda: refused(self.store, self.message.emit) or self.unpin())
        dock.next_useful_clicked.connect(self.next_most_useful)
        dock.set_project_open(True)
        dock.set_state("idle")
        self._jobs.submit(self._read_project, self._on_project_read)

    # ----- state ---------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.dock.running

    @property
    def idle(self) -> bool:
        """No training, no queued work, no prediction refresh (tests wait for this)."""
        return not self.running and self._jobs.idle and self._predict_jobs.idle

    def _read_project(self) -> tuple:
        options = self.store.get_setting(OPTIONS_SETTING) or {}
        statuses = self.store.frame_statuses()
        labelled = {fid for fid, s in statuses.items() if s in (FrameStatus.CALIPERS, FrameStatus.MASK_ACCEPTED)}
        self._accepted_seen.update(fid for fid, s in statuses.items() if s == FrameStatus.MASK_ACCEPTED)
        return options, labelled, self.trainer.auto_after, self._versions()

    def _on_project_read(self, result: tuple) -> None:
        options, labelled, auto_after, versions = result
        self._refresh_click_state(announce=True)
        for key in ("minutes", "epochs", "preset", "resolution", "watchdog_s"):
            if key in options:
                setattr(self.options, key, options[key])
        self._apply_options()
        self._labelled = labelled
        self._auto_after = auto_after
        pending, self._pending = self._pending, []
        for frame_id in pending:
            self.note_status(frame_id, DisplayStatus.CALIPERS)
        self.dock.set_auto(self._new_labelled, self._auto_after)
        self.dock.set_versions(*versions)

    def _apply_options(self) -> None:
        t, o = self.trainer, self.options
        t.minutes, t.epochs, t.preset, t.resolution, t.watchdog_s = o.minutes, o.epochs, o.preset, o.resolution, \
            o.watchdog_s

    def _versions(self) -> tuple[list[ModelVersion], str | None, bool]:
        """(worker thread) every version, the one in use, whether it is pinned."""
        registry = self.trainer.registry
        try:
            versions = registry.versions()
        except Exception as exc:  # a damaged registry: show no versions, say why
            log.warning("model versions not readable: %s", exc)
            versions = []
        current = self.store.get_setting(CURRENT_KEY)
        return versions, current, registry.pinned

    def _refresh_click_state(self, announce: bool) -> None:
        """Show the click network in use (say so in the status bar when announcing) and its versions."""
        registry = self.trainer.click_registry

        def read() -> tuple:
            return registry.in_use().label, registry.versions(), self.store.get_setting(registry.current_key)

        def show(state: tuple) -> None:
            label, versions, current = state
            self.dock.learning.set_click_model(label)
            self.dock.learning.set_click_versions(versions, current)
            if announce and label != "no model":
                self.message.emit(f"Clicks are answered by the {label}")

        self._jobs.submit(read, show)

    def _refresh_versions(self) -> None:
        self._jobs.submit(self._versions, lambda v: self.dock.set_versions(*v))

    # ----- starting ------------------------------------------------------------------------------------
    def train(self) -> None:
        """Start a training now (Train button, Ctrl+T)."""
        if self.running:
            self.message.emit("A training is already running")
            return
        self._begin(lambda: self.trainer.start(), manual=True)

    def note_status(self, frame_id: int, status: DisplayStatus) -> None:
        """A frame's status changed: a frame labelled for the first time (complete calipers or an accepted mask)
        counts towards the automatic training."""
        if status not in LABELLED:
            return
        if status == DisplayStatus.ACCEPTED and frame_id not in self._accepted_seen:
            self._accepted_seen.add(frame_id)
            self._jobs.submit(lambda: clicks_of_frame(self.store, frame_id), self.dock.learning.add_accepted)
        if self._labelled is None:  # the project's labelled frames are still being read
            self._pending.append(frame_id)
            return
        if frame_id in self._labelled:
            return
        self._labelled.add(frame_id)
        self._new_labelled += 1
        self.dock.set_auto(self._new_labelled, self._auto_after)
        if self.running:  # counted by the trainer, which never starts a second run
            self._jobs.submit(lambda: (self.trainer.note_labelled_frame(), False)[1])
            return
        self._begin(lambda: self.trainer.note_labelled_frame(), manual=False)

    def _begin(self, start: Any, manual: bool) -> None:
        if refused(self.store, self.message.emit if manual else lambda _: None):  # it would write its model
            return
        options = self.options
        if manual:
            self.dock.start_run(options.epochs)

        def done(started: bool) -> None:
            if started:
                if not manual:
                    self.dock.start_run(options.epochs)
                    self.message.emit(f"Training started by itself after {self._new_labelled} newly labelled "
                                      f"frames")
                self._new_labelled = 0
                self.dock.set_auto(0, self._auto_after)
                self.dock.set_state("training")
            elif manual:
                already = self.trainer.running
                self.dock.set_state("training" if already else "idle")
                self.message.emit("A training is already running" if already
                                  else "Nothing to train on yet: place calipers or accept a mask first")

        def failed(exc: BaseException) -> None:
            self.dock.set_state("failed", f"the training could not start: {exc}")
            self.message.emit(f"The training could not start: {exc}")

        self._jobs.submit(start, done, failed)

    def stop(self) -> None:
        """Finish now, keeping the best model so far (it still becomes a version)."""
        if self.dock.state == "training":
            self.trainer.stop()  # touches a stop file: instant
            self.dock.show_result("Stopping: finishing the epoch and checking the best model…")
            self.dock.stop_button.setEnabled(False)

    def cancel(self) -> None:
        """Abandon the run (its process is ended on a worker thread: ending it can take a moment)."""
        if self.running:
            self.dock.show_result("Cancelling…")
            self.dock.stop_button.setEnabled(False)
            self.dock.cancel_button.setEnabled(False)
            threading.Thread(target=self.trainer.cancel, name="sonoclick-train-cancel", daemon=True).start()

    # ----- events (worker threads -> GUI thread) -------------------------------------------------------
    def _forward_event(self, event: dict) -> None:
        if not self._closed:
            try:
                self._relay.event.emit(event)
            except RuntimeError:  # the window is gone
                pass

    def _forward_finished(self, outcome: TrainingOutcome) -> None:
        if not self._closed:
            try:
                self._relay.finished.emit(outcome)
            except RuntimeError:
                pass

    def _on_event(self, event: dict) -> None:
        if self._closed:
            return
        kind = event.get("event")
        if kind == "state" and event.get("state") in ("training", "evaluating"):
            self.dock.set_state(event["state"])
        elif kind == "data":
            self.dock.show_data(event)
        elif kind == "progress":
            if event.get("kind") == "epoch":
                self.dock.add_epoch(event)
            else:
                self._latest_step = event
                if not self._step_timer.isActive():
                    self._step_timer.start()

    def _show_latest_step(self) -> None:
        if self._latest_step is not None and self.dock.state == "training":
            self.dock.show_progress(self._latest_step)
        self._latest_step = None

    def _on_finished(self, outcome: TrainingOutcome) -> None:
        if self._closed:
            return
        self._step_timer.stop()
        self.outcomes.append(outcome)
        end = outcome.exit
        self.dock.set_state(end.state.value, end.reason)
        text = outcome_text(outcome, self.trainer.registry.pinned) + click_outcome_text(outcome)
        self.dock.show_result(text)
        self.message.emit(text + (" (see the Model training tab)" if end.state == JobState.FAILED else ""))
        if outcome.version is not None:
            self._refresh_versions()
        if outcome.click_version is not None:
            self._refresh_click_state(announce=outcome.click_switched)
        if outcome.switched and outcome.version is not None:
            self._use_version(outcome.version)
        self.run_ended.emit(outcome)

    # ----- versions ------------------------------------------------------------------------------------
    def pin(self, name: str) -> None:
        """Use this version from now on (also the rollback)."""

        def work() -> ModelVersion:
            self.trainer.registry.pin(name)
            return self.trainer.registry.version(name)

        def done(version: ModelVersion) -> None:
            self.message.emit(f"Model {name} pinned: it stays in use until you unpin it")
            self._use_version(version)
            self._refresh_versions()

        self._jobs.submit(work, done)

    def unpin(self) -> None:
        def done(_: object) -> None:
            self.message.emit("Unpinned: a better new model will replace the one in use")
            self._refresh_versions()

        self._jobs.submit(self.trainer.registry.unpin, done)

    def _use_version(self, version: ModelVersion) -> None:
        """Point "model_path" at the version's weights (relative to the project), then recompute the
        predictions of every unlabelled frame with it."""
        registry: ModelRegistry = self.trainer.registry
        path = registry.path_of(version)
        self._jobs.submit(lambda: switch_model(self.store, path), self.refresh_predictions)

    def refresh_predictions(self, frame_ids: list[int]) -> None:
        """One background job per frame (so closing drops the rest); a newer switch supersedes these."""
        if self._model is None or self._closed or self.store.read_only_reason is not None:
            return  # (a read-only project keeps its stored predictions)
        self._refresh_generation += 1
        generation = self._refresh_generation
        done_count = [0]
        model = self._model
        store = self.store

        def predict(frame_id: int) -> bool:
            if generation != self._refresh_generation or self._closed:
                return False
            return model.repredict(store, frame_id)

        def landed(frame_id: int, ok: bool) -> None:
            if ok:
                done_count[0] += 1
                self.frame_status.emit(frame_id, FROM_STORE[FrameStatus.PREDICTED_ONLY])
                if self._reload_frame is not None:
                    self._reload_frame(frame_id)

        def skipped(exc: BaseException) -> None:
            log.warning("prediction refresh: %s", exc)

        for fid in frame_ids:
            self._predict_jobs.submit(lambda f=fid: predict(f), lambda ok, f=fid: landed(f, ok), skipped)

        def finished(_: object) -> None:
            if generation != self._refresh_generation:
                return
            error = model.take_error()
            if error:
                self.message.emit(error)
                self.dock.add_note(error)
            else:
                self.dock.add_note(f"Predictions redone with the new model on {done_count[0]} unlabelled "
                                   f"frame{'' if done_count[0] == 1 else 's'}")
            self.predictions_refreshed.emit(done_count[0])

        self._predict_jobs.submit(lambda: None, finished)

    # ----- next most useful frame ----------------------------------------------------------------------
    def next_most_useful(self, current: int | None = None) -> None:
        """Go to the unlabelled frame whose prediction is the most uncertain."""

        def done(ranking: list[tuple[int, float]]) -> None:
            candidates = [(fid, u) for fid, u in ranking if fid != current]
            if not candidates:
                self.message.emit("Every frame has a human annotation")
                return
            fid, score = candidates[0]
            if score != score:  # NaN: no prediction to rank by
                self.message.emit("No model predictions yet: showing the next unlabelled frame")
            else:
                scored = sum(1 for _, u in ranking if u == u)
                self.message.emit(f"Most useful next frame: the model is least sure here (ranked 1st of {scored} "
                                  f"unlabelled frames by its uncertainty)")
            self.show_frame_requested.emit(fid)

        self._jobs.submit(lambda: rank_unlabelled(self.store), done)

    # ----- closing -------------------------------------------------------------------------------------
    def close(self) -> None:
        """Cancel a running training (its process is ended; the GUI waits at most CANCEL_WAIT_S) and stop the
        workers. The project is left as it was: a cancelled run keeps nothing."""
        self._closed = True
        self._step_timer.stop()
        self._refresh_generation += 1
        if self.trainer.running or self.dock.state == "starting":
            self._jobs.shutdown(cancel_queued=True)  # a start in progress finishes first, then is cancelled
            ender = threading.Thread(target=self.trainer.cancel, name="sonoclick-train-cancel", daemon=True)
            ender.start()
            ender.join(CANCEL_WAIT_S)
        else:
            self._jobs.shutdown(cancel_queued=True)
        self._predict_jobs.shutdown(cancel_queued=True)
        self.dock.set_state("idle")
        self.dock.set_project_open(False)
        for signal in (self.dock.train_clicked, self.dock.stop_clicked, self.dock.cancel_clicked,
                       self.dock.pin_requested, self.dock.unpin_requested, self.dock.next_useful_clicked):
            try:
                signal.disconnect()
            except TypeError:
                pass
