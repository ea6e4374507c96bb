"""Password mails: 10,000 Account password mails to a loopback SMTP server (aiosmtpd).

Prints mails per second of a whole batch (tokens, rendering in four languages, the log, one
reused SMTP connection) beside the baseline of plain smtplib sending the same number of
minimal messages over one connection to the same server, measured in the same run. The server
runs in a process of its own, as a mail server would, and counts what it receives.
"""

import multiprocessing
import os
import smtplib
import socket
import time

from aiosmtpd.controller import Controller
from sqlalchemy import delete, insert, select

from shopadmin.customers.models import Customer
from shopadmin.extensions import db
from shopadmin.notifications import services
from shopadmin.notifications.batches import run_batch
from shopadmin.notifications.models import MailBatch, MailLog, MailStatus
from shopadmin.settings.services import update_settings

from .common import bench_app

COUNT = int(os.environ.get("BENCH_MAILS", 10_000))
TARGET = 200


class Counter:
    def __init__(self, received):
        self.received = received

    async def handle_DATA(self, server, session, envelope):
        with self.received.get_lock():
            self.received.value += 1
        return "250 OK"


def serve(port: int, received, stop) -> None:
    """The SMTP server's process: receive and count until told to stop."""
    controller = Controller(Counter(received), hostname="127.0.0.1", port=port)
    controller.start()
    stop.wait()
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    port = free_port()
    context = multiprocessing.get_context("spawn")
    received, stop = context.Value("l", 0), context.Event()
    server = context.Process(target=serve, args=(port, received, stop), daemon=True)
    server.start()
    for _ in range(100):  # until the server listens
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for index in range(COUNT):
                smtp.sendmail("shop@bench.test", [f"c{index}@bench.test"],
                              f"Subject: test {index}\r\n\r\nHello".encode())
        raw = COUNT / (time.perf_counter() - started)

        app = bench_app("mails", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        with app.app_context():
            db.session.execute(delete(MailLog))
            db.session.execute(delete(MailBatch))  # (else the same send is the same mailing)
            db.session.execute(delete(Customer))
            languages = ("de", "fr", "en", "pl")
            db.session.execute(insert(Customer), [
                {"first_name": f"Kunde {i}", "last_name": "Bench", "email": f"c{i}@bench.test",
                 "email_key": f"c{i}@bench.test", "language": languages[i % 4]}
                for i in range(COUNT)])
            update_settings({"mail_rate_per_minute": 0})
            db.session.commit()
            ids = list(db.session.scalars(select(Customer.id)))
            received.value = 0
            started = time.perf_counter()
            batch = services.send_password_mails(ids, None)
            db.session.commit()
            while run_batch(batch.id) is not None:
                pass
            seconds = time.perf_counter() - started
            sent = db.session.scalar(select(db.func.count(MailLog.id)).where(
                MailLog.status == MailStatus.SENT))
    finally:
        stop.set()
        server.join(10)
    ours = sent / seconds
    print(f"baseline: plain smtplib, {COUNT:,} minimal messages   {raw:10,.0f} mails/s")
    print(f"password mail batch, {sent:,} sent in {seconds:.1f} s          {ours:10,.0f} mails/s"
          f"  ({ours / raw:.2f} x baseline)")
    print(f"received by the server: {received.value:,}; target >= {TARGET} mails/s: "
          f"{'met' if ours >= TARGET and sent == COUNT == received.value else 'NOT met'}")


if __name__ == "__main__":
    main()
