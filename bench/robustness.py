"""Fuzz and fault bench: thousands of generated bad inputs and faults, each run in a worker process with a per-case
timeout, tallied per category.

    python bench/robustness.py [--scale 1.0] [--workers 2] [--timeout 30] [--json out.json]

Cases come from tests/fuzz_cases.py, tests/fault_runs.py and tests/process_fault_runs.py (fixed seed: the same
cases every run; a process killed "at a random point" is killed after a seeded number of events or a seeded
delay). Columns: ok (accepted and plausible), clear (a SonoClickError with a message), crash (any other exception,
or a worker that died: a raw traceback for the user), hang (no answer within --timeout: the worker is killed and
replaced), wrong (accepted but impossible, or a fault the app did not report or recover from: a silent wrong
result), lost (acknowledged edits missing after the fault), peak MB (the largest ru_maxrss of a worker or of the
processes it started: writers, trainers, model processes; an upper bound of any one case's peak).
POSIX only (fork, SIGKILL, RLIMIT_FSIZE).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import defaultdict
from multiprocessing.connection import Connection, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# category -> (row of the table, number of cases at --scale 1)
CATEGORIES = {
    "images": ("images", 1500),
    "dicom": ("DICOM", 1000),
    "video": ("video", 400),
    "point_json": ("point JSON", 1200),
    "project_db": ("project database: damaged files and rows", 400),
    "kill9": ("project database: writer killed (SIGKILL)", 300),
    "disk_full": ("project database: disk full (RLIMIT_FSIZE)", 30),
    "two_writers": ("project database: two writing processes", 30),
    "two_apps": ("two app instances on one project (one sometimes killed)", 150),
    "trainer": ("background trainer's child killed (SIGKILL)", 40),
    "model_process": ("model process killed (SIGKILL): frame model, click network", 60),
    "checkpoints": ("checkpoints", 500),
    "import_export": ("import/export", 500),
    "app": ("the app on a folder of bad files", 200),
}
SEEDS_KEPT = {"frames", "seed", "seed.avi", "seed.safetensors"}


def runners() -> dict:
    from tests import fault_runs, fuzz_cases, process_fault_runs

    return {
        "images": fuzz_cases.run_image, "dicom": fuzz_cases.run_dicom, "video": fuzz_cases.run_video,
        "point_json": fuzz_cases.run_point_json, "checkpoints": fuzz_cases.run_checkpoint,
        "project_db": fault_runs.run_project_db, "kill9": fault_runs.run_kill9, "disk_full": fault_runs.run_disk_full,
        "two_writers": fault_runs.run_two_writers, "import_export": fault_runs.run_import_export,
        "app": fault_runs.run_app_folder, "two_apps": process_fault_runs.run_two_apps,
        "trainer": process_fault_runs.run_killed_trainer, "model_process": process_fault_runs.run_killed_model,
    }


def worker(conn: Connection, workdir: str) -> None:
    """Run the cases sent over `conn` one by one; answer each with its outcome and the memory peaks so far."""
    import logging

    import torch

    torch.set_num_threads(1)
    logging.disable(logging.WARNING)  # the readers log each ignored DICOM tag; thousands of them here
    os.environ["OPENCV_LOG_LEVEL"] = "SILENT"
    run = runners()
    root = Path(workdir)
    while True:
        job = conn.recv()
        if job is None:
            return
        category, index = job
        start = time.perf_counter()
        outcome = run[category](index, root)
        seconds = time.perf_counter() - start
        for entry in root.iterdir():  # the case's files; the seeds stay for the next case
            if entry.name not in SEEDS_KEPT:
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        conn.send((outcome.kind, outcome.detail, outcome.lost_edits, peak, seconds))


class Pool:
    """Workers that each run one case at a time; one that overruns the timeout is killed (a hang) and replaced."""

    def __init__(self, size: int, timeout: float, workdir: Path) -> None:
        self.timeout, self.workdir = timeout, workdir
        self.context = mp.get_context("fork")
        self.slots = [self._start(k) for k in range(size)]

    def _start(self, k: int) -> dict:
        folder = self.workdir / f"worker{k}_{time.monotonic_ns()}"
        folder.mkdir()
        ours, theirs = self.context.Pipe()
        # not a daemon: the model-process cases start a process pool of their own; close() ends every worker
        process = self.context.Process(target=worker, args=(theirs, str(folder)), daemon=False)
        process.start()
        theirs.close()
        return {"k": k, "conn": ours, "process": process, "job": None, "since": 0.0, "folder": folder}

    def _replace(self, slot: dict) -> None:
        os.kill(slot["process"].pid, signal.SIGKILL)
        slot["process"].join()
        shutil.rmtree(slot["folder"], ignore_errors=True)
        self.slots[self.slots.index(slot)] = self._start(slot["k"])

    def run(self, jobs: list[tuple[str, int]], record) -> None:
        pending = list(reversed(jobs))
        while pending or any(s["job"] for s in self.slots):
            for slot in self.slots:
                if slot["job"] is None and pending:
                    slot["job"], slot["since"] = pending.pop(), time.monotonic()
                    slot["conn"].send(slot["job"])
            busy = [s for s in self.slots if s["job"]]
            deadline = min(s["since"] for s in busy) + self.timeout
            ready = wait([s["conn"] for s in busy], timeout=max(0.0, deadline - time.monotonic()))
            for slot in busy:
                if slot["conn"] in ready:
                    try:
                        record(slot["job"], *slot["conn"].recv())
                    except EOFError:  # the worker died inside the case (a hard crash)
                        record(slot["job"], "crash", "worker process died", 0, 0, 0.0)
                        self._replace(slot)
                        continue
                    slot["job"] = None
                elif time.monotonic() - slot["since"] > self.timeout:
                    record(slot["job"], "hang", f"no answer within {self.timeout:g} s", 0, 0, self.timeout)
                    self._replace(slot)

    def close(self) -> None:
        for slot in self.slots:
            slot["conn"].send(None)
            slot["process"].join(timeout=10)
            if slot["process"].is_alive():
                os.kill(slot["process"].pid, signal.SIGKILL)
                slot["process"].join()


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0, help="multiply every category's number of cases")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds a case may take before it is a hang")
    p.add_argument("--only", nargs="*", choices=sorted(CATEGORIES), help="run these categories only")
    p.add_argument("--json", type=Path, help="also write the table and every non-ok case here")
    args = p.parse_args(argv)
    jobs = [(c, i) for c, (_, n) in CATEGORIES.items() if not args.only or c in args.only
            for i in range(max(1, round(n * args.scale)))]
    tally: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    notes: list[dict] = []

    def record(job: tuple[str, int], kind: str, detail: str, lost: int, peak_kib: int, seconds: float) -> None:
        row = tally[job[0]]
        row["cases"] += 1
        row[kind] += 1
        row["lost"] += lost
        row["peak_mb"] = max(row["peak_mb"], peak_kib / 1024)
        row["seconds"] += seconds
        if kind in ("crash", "hang", "wrong") or lost:
            notes.append({"category": job[0], "case": job[1], "outcome": kind, "lost": lost, "detail": detail})

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sonoclick-robustness-") as tmp:
        pool = Pool(args.workers, args.timeout, Path(tmp))
        try:
            pool.run(jobs, record)
        finally:
            pool.close()
    table = {CATEGORIES[c][0]: {k: round(v, 1) if k in ("peak_mb", "seconds") else int(v) for k, v in row.items()}
             for c, row in sorted(tally.items(), key=lambda kv: list(CATEGORIES).index(kv[0]))}
    print_table(table, time.perf_counter() - started)
    for note in notes[:40]:
        print(f"  {note['outcome']:5} {note['category']}#{note['case']} lost={note['lost']}: {note['detail']}")
    result = {"table": table, "notes": notes, "workers": args.workers, "timeout_s": args.timeout}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


def print_table(table: dict, wall: float) -> None:
    columns = ("cases", "ok", "clear", "crash", "hang", "wrong", "lost", "peak_mb")
    print(f"| category | {' | '.join(columns)} |")
    print("|---" * (len(columns) + 1) + "|")
    totals = defaultdict(float)
    for name, row in table.items():
        print(f"| {name} | {' | '.join(str(row.get(c, 0)) for c in columns)} |")
        for c in columns:
            totals[c] = max(totals[c], row.get(c, 0)) if c == "peak_mb" else totals[c] + row.get(c, 0)
    cells = [str(round(totals[c], 1)) if c == "peak_mb" else str(int(totals[c])) for c in columns]
    print(f"| **all** | {' | '.join(cells)} |")
    print(f"wall time {wall:.0f} s")


if __name__ == "__main__":
    main()
