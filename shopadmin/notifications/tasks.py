"""The mail jobs. Thin: they call delivery.py and come back later when it says so."""

from ..jobs import job
from .batches import run_batch
from .delivery import deliver_logged_mail


@job()
def deliver_mail_task(log_id: int) -> None:
    send_now(log_id)


@job()
def run_batch_task(batch_id: int) -> None:
    delay = run_batch(batch_id)
    if delay is not None:
        run_batch_task.schedule((batch_id,), delay=delay)


def send_now(log_id: int) -> None:
    """Send one logged mail in this process (a committed row); retries go to the queue."""
    delay = deliver_logged_mail(log_id)
    if delay is not None:
        deliver_mail_task.schedule((log_id,), delay=delay)
