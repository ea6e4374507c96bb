"""The job worker: Huey's consumer, with the sweep of tracked jobs and a graceful stop.

Every few seconds the worker sweeps (tracking.sweep): a job whose run died anywhere (kill -9,
a lost machine) is queued again within STALE_AFTER + SWEEP_SECONDS. Told to stop (SIGTERM from
a service manager, SIGINT from Ctrl-C), the worker sets tracking.stopping: each run
checkpoints at its next batch and hands its job back to the queue, and the worker exits; a
restarted worker resumes the jobs at once.
"""

import logging
import os
import threading

from huey.consumer import Consumer

from . import tracking

log = logging.getLogger(__name__)
SHUTDOWN_SECONDS = 60  # runs get this long to reach a checkpoint before they are cut off


class Worker(Consumer):
    def _handle_signal(self, signum, frame):
        tracking.stopping.set()
        super()._handle_signal(signum, frame)
        if not self._restart:
            self._graceful = True  # SIGTERM too: the runs hand back, nothing is cut off


def sweep_every(app, seconds: float, stop: threading.Event) -> threading.Thread:
    """Run tracking.sweep now and then every `seconds` in a thread, until `stop` is set."""
    from .extensions import db

    def loop() -> None:
        while not stop.is_set() and not tracking.stopping.is_set():
            with app.app_context():
                try:
                    tracking.sweep()
                except Exception:  # noqa: BLE001  (logged; the next sweep tries again)
                    log.exception("sweep of tracked jobs failed")
                    db.session.rollback()
                finally:
                    db.session.remove()
            stop.wait(seconds)

    thread = threading.Thread(target=loop, name="sweep", daemon=True)
    thread.start()
    return thread


def yield_to_the_web(niceness: int) -> None:
    """Lower this process's priority to `niceness` (never raise it: an operator's `nice` stays).
    Called before any thread starts: on Linux a thread's priority is its own, and threads and
    processes inherit their creator's, the import's reading process included."""
    if niceness > os.getpriority(os.PRIO_PROCESS, 0):
        os.setpriority(os.PRIO_PROCESS, 0, min(niceness, 19))


def run_worker(app, huey, workers: int) -> None:
    # The tasks, and the kinds of tracked job they register.
    from . import jobs  # noqa: F401
    from .customers import bulk, common_lexemes_job, scrub  # noqa: F401
    from .exports import services as export_services  # noqa: F401
    from .imports import tasks as import_tasks  # noqa: F401
    from .notifications import batches, tasks  # noqa: F401

    yield_to_the_web(app.config.get("JOB_WORKER_NICENESS", 0))
    consumer = Worker(huey, workers=workers, worker_type="thread", periodic=True,
                      shutdown_timeout=SHUTDOWN_SECONDS)
    stop = threading.Event()
    sweeper = sweep_every(app, app.config.get("SWEEP_SECONDS", tracking.SWEEP_SECONDS), stop)
    try:
        consumer.run()
    finally:
        stop.set()
        sweeper.join(timeout=5)
