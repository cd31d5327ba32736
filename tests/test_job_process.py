import textwrap
import threading

from core.learning.job_process import JobProcess, JobState
from tests.conftest import EventLog


def script(tmp_path, body: str) -> list[str]:
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(body))
    return [str(path)]


def run(tmp_path, body: str, watchdog_s: float = 30.0, after_start=None) -> tuple[list[dict], object]:
    events, exits, done = EventLog(), [], threading.Event()
    job = JobProcess(script(tmp_path, body), tmp_path / "work", events,
                     lambda e: (exits.append(e), done.set()), watchdog_s=watchdog_s)
    job.start()
    if after_start:
        after_start(job, events)
    assert done.wait(30)
    return events, exits[0]


def test_events_arrive_and_a_clean_finish_is_reported(tmp_path):
    events, end = run(tmp_path, """
        import json
        for epoch in range(3):
            print(json.dumps({"event": "progress", "epoch": epoch}))
        print(json.dumps({"event": "state", "state": "evaluating"}))
        print(json.dumps({"event": "done", "stopped_by": "budget"}))
    """)
    assert [e["epoch"] for e in events if e["event"] == "progress"] == [0, 1, 2]
    assert end.state == JobState.FINISHED and end.return_code == 0


def test_stop_file_asks_the_job_to_finish_early(tmp_path):
    def stop_after_first_event(job, events):
        assert events.first.wait(30)
        job.stop()

    events, end = run(tmp_path, """
        import json, os, time
        stop = os.environ["SONOCLICK_STOP_FILE"]
        print(json.dumps({"event": "progress", "epoch": 0}), flush=True)
        while not os.path.exists(stop):
            time.sleep(0.01)
        print(json.dumps({"event": "done", "stopped_by": "stop"}))
    """, after_start=stop_after_first_event)
    assert end.state == JobState.STOPPED


def test_crash_killed_and_stuck_jobs_fail_with_a_reason(tmp_path):
    _, crashed = run(tmp_path, "raise RuntimeError('CUDA out of memory')\n")
    assert crashed.state == JobState.FAILED and "CUDA out of memory" in crashed.reason

    _, killed = run(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    assert killed.state == JobState.FAILED and "SIGKILL" in killed.reason

    _, stuck = run(tmp_path, "import time\ntime.sleep(60)\n", watchdog_s=0.5)
    assert stuck.state == JobState.FAILED and "watchdog" in stuck.reason


def test_cancel_ends_the_job(tmp_path):
    _, end = run(tmp_path, "import time\nprint('{\"event\": \"progress\"}', flush=True)\ntime.sleep(60)\n",
                 after_start=lambda job, events: job.cancel())
    assert end.state == JobState.CANCELLED
