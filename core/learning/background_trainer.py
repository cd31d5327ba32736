"""The app's background trainer, without Qt: snapshot the project's labels, train in a child process, turn the
result into a model version, and switch the live model only when the new one is better. A project with
accepted thyroid-gland masks besides nodule masks gets a region-prior (TRFE-Net) version: see
core.commands.train_project.

Each run works in its own folder, <project>/runs/<start time>/ (snapshot, log, checkpoints). A cancelled run's
folder is deleted; of the others only the newest few are kept (a finished run's model lives on as a version in
<project>/models/, which pruning never touches).

Callbacks come from worker threads; a GUI forwards them to its own thread."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.learning.job_process import JobExit, JobProcess, JobState
from core.learning.snapshot import has_nodule_labels, read_snapshot, write_snapshot
from core.learning.versions import CLICK, FRAME, ModelRegistry, ModelVersion
from core.project.store import ProjectStore
from models.preprocess import DEFAULT_RESOLUTION

AUTO_TRAIN_KEY = "trainer.auto_after_frames"
DEFAULT_AUTO_AFTER = 5  # the first run comes after a handful of labelled frames
RUNS_FOLDER = "runs"
KEEP_RUNS = 3  # finished or failed runs kept for a look at their log


def prune_runs(runs: Path, keep: int, active: Path | None = None) -> list[Path]:
    """Delete all run folders but the newest `keep` (their names sort by start time) and `active`; returns what
    was deleted."""
    if not runs.is_dir():
        return []
    folders = sorted(p for p in runs.iterdir() if p.is_dir() and p != active)
    doomed = folders[:max(0, len(folders) - keep)]
    for folder in doomed:
        shutil.rmtree(folder, ignore_errors=True)
    return doomed


@dataclass(frozen=True)
class TrainingOutcome:
    exit: JobExit
    version: ModelVersion | None  # the new frame-model version, when the run produced one
    switched: bool  # the live frame model is now this version
    click_version: ModelVersion | None = None  # the new click-network version, when the run produced one
    click_switched: bool = False
    click_note: str = ""  # why the run made no click version (too few accepted masks), if so


class BackgroundTrainer:
    def __init__(self, store: ProjectStore, project_folder: str | Path,
                 on_event: Callable[[dict], None], on_finished: Callable[[TrainingOutcome], None],
                 minutes: float | None = 3.0, epochs: int | None = None, preset: str = "fast",
                 resolution: int = DEFAULT_RESOLUTION, watchdog_s: float = 300.0, fine_tune: bool = True,
                 keep_runs: int = KEEP_RUNS, networks: tuple[str, ...] = (FRAME, CLICK),
                 click_minutes: float | None = None, click_steps: int = 100) -> None:
        self.store = store
        self.folder = Path(project_folder)
        self.registry = ModelRegistry(store, project_folder)
        self.click_registry = ModelRegistry(store, project_folder, CLICK)
        self.networks = networks
        self.click_minutes, self.click_steps = click_minutes, click_steps
        self.threads: int | None = None  # the child's CPU threads (None: its default)
        self.seed = 0
        self._on_event = on_event
        self._on_finished = on_finished
        self.minutes, self.epochs, self.preset, self.resolution = minutes, epochs, preset, resolution
        self.watchdog_s = watchdog_s
        self.fine_tune = fine_tune  # start from the live model's weights (same architecture) instead of scratch
        self.keep_runs = keep_runs
        self.run_dir: Path | None = None  # the folder of the latest run
        self._job: JobProcess | None = None
        self._lock = threading.Lock()
        self._labelled_since_last = 0

    @property
    def running(self) -> bool:
        job = self._job
        return job is not None and job.state in (JobState.TRAINING, JobState.EVALUATING)

    @property
    def state(self) -> JobState:
        return self._job.state if self._job else JobState.IDLE

    @property
    def auto_after(self) -> int:
        return int(self.store.get_setting(AUTO_TRAIN_KEY, DEFAULT_AUTO_AFTER))

    def note_labelled_frame(self) -> bool:
        """Count a newly labelled frame; start a training once enough have come in. True if one started."""
        self._labelled_since_last += 1
        if self.auto_after > 0 and self._labelled_since_last >= self.auto_after and not self.running:
            return self.start()
        return False

    def start(self) -> bool:
        """Start a training now; False if one is running (never two at once) or no frame says where a nodule is
        (nothing labelled, only "no nodule" tags, or gland masks alone)."""
        with self._lock:
            if self.running:
                return False
            run_dir = self.folder / RUNS_FOLDER / datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
            snapshot = write_snapshot(self.store, run_dir / "snapshot")
            if not has_nodule_labels(read_snapshot(snapshot)):
                shutil.rmtree(run_dir, ignore_errors=True)
                return False
            self.run_dir = run_dir
            argv = ["-m", "core", "train-project", "--snapshot", str(snapshot), "--out", str(run_dir),
                    "--preset", self.preset, "--resolution", str(self.resolution)]
            if self.minutes:
                argv += ["--minutes", str(self.minutes)]
            if self.epochs:
                argv += ["--epochs", str(self.epochs)]
            argv += self._model_arguments()
            self._labelled_since_last = 0
            self._job = JobProcess(argv, run_dir, self._on_event, lambda end: self._finished(end, run_dir),
                                   watchdog_s=self.watchdog_s)
            self._job.start()
            return True

    def _model_arguments(self) -> list[str]:
        """Which networks to train, from what, and against which model in use (whoever set it)."""
        argv = ["--networks", ",".join(self.networks), "--seed", str(self.seed), "--click-steps",
                str(self.click_steps)]
        if self.threads:
            argv += ["--threads", str(self.threads)]
        if self.click_minutes is not None:
            argv += ["--click-minutes", str(self.click_minutes)]
        in_use = self.registry.in_use()
        if in_use.path is not None:
            argv += ["--baseline", str(in_use.path)]
        current = self.registry.current()
        if current is not None and self.fine_tune:
            argv += ["--init", str(self.registry.path_of(current))]
        click = self.click_registry.in_use()
        if click.path is not None:
            argv += ["--click-baseline", str(click.path)]
            if self.fine_tune:
                argv += ["--click-init", str(click.path)]
        return argv

    def stop(self) -> None:
        """Finish early, keeping the best model so far (it still becomes a version)."""
        if self._job:
            self._job.stop()

    def cancel(self) -> None:
        """Abandon the run; nothing it made is kept."""
        if self._job:
            self._job.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        return self._job.wait(timeout) if self._job else True

    @property
    def pid(self) -> int | None:
        return self._job.pid if self._job else None

    def _finished(self, end: JobExit, run_dir: Path) -> None:
        results: dict[str, tuple[ModelVersion | None, bool]] = {FRAME: (None, False), CLICK: (None, False)}
        done = end.last_event or {}
        click = done.get("click") or {}
        if end.state in (JobState.FINISHED, JobState.STOPPED) and done.get("event") == "done":
            try:
                for network, report in ((FRAME, done), (CLICK, click)):
                    if report.get("checkpoint"):
                        results[network] = self._register(self.click_registry if network == CLICK
                                                          else self.registry, report)
            except Exception as exc:  # a broken result must not take the app down; report it as a failure
                end = JobExit(JobState.FAILED, f"the finished model could not be registered: {exc}",
                              end.return_code, end.last_event)
        self._tidy_runs(run_dir, cancelled=end.state == JobState.CANCELLED)
        self._on_finished(TrainingOutcome(end, *results[FRAME], *results[CLICK], str(click.get("skipped", ""))))

    @staticmethod
    def _register(registry: ModelRegistry, report: dict) -> tuple[ModelVersion, bool]:
        """A run's model becomes the next version of its network, offered in place of the model in use."""
        version = registry.add(report["checkpoint"], report.get("val_dice"), report.get("baseline_val_dice"),
                               report.get("validated_on", ""), int(report.get("n_val", 0)),
                               {k: report.get(k) for k in ("epochs", "steps", "seconds", "n_train", "stopped_by")},
                               frame_scores=report.get("frame_scores"),
                               baseline_frame_scores=report.get("baseline_frame_scores"),
                               lower_is_better=bool(report.get("lower_is_better", False)),
                               baseline=registry.in_use().label)
        return version, registry.offer(version)

    def _tidy_runs(self, run_dir: Path, cancelled: bool) -> None:
        """`run_dir`'s process is gone: drop its folder if it was cancelled, and old runs beyond keep_runs (never
        one that has started since)."""
        if cancelled:
            shutil.rmtree(run_dir, ignore_errors=True)
        prune_runs(self.folder / RUNS_FOLDER, self.keep_runs, active=self.run_dir if self.running else None)
