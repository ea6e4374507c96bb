"""One mailing of bench/mails.py, in a process of its own, on the code of the folder it is
started in (its PYTHONPATH: this checkout's, or another revision's exported by the bench).

    python bench/_mailing.py DATABASE_URL INSTANCE_FOLDER SMTP_PORT COUNT TAG

Makes COUNT customers (languages de, fr, en, pl in turn; addresses c{i}@TAG.bench.test), prints
"ready", waits for a line on its input (the bench reads the servers' CPU meanwhile), then
starts the mailing as staff do and works it to its end as the worker does, and prints one line
of JSON: mails sent, seconds, and this process's CPU seconds (every thread's) over the mailing.
It uses only what every revision since the mail bench began has: create_app,
services.send_password_mails, batches.run_batch.
"""

import json
import os
import sys
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import delete, insert, select

from shopadmin import create_app
from shopadmin.customers.models import Customer
from shopadmin.extensions import db
from shopadmin.notifications import services
from shopadmin.notifications.batches import run_batch
from shopadmin.notifications.models import MailBatch, MailLog, MailStatus
from shopadmin.settings.services import update_settings

LANGUAGES = ("de", "fr", "en", "pl")


def main(url: str, instance: str, port: str, count: str, tag: str) -> None:
    app = create_app({
        "INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": int(port),
    })
    with app.app_context():
        upgrade(directory=str(Path.cwd() / "migrations"))
        db.session.execute(delete(MailLog))
        db.session.execute(delete(MailBatch))  # (else the same send is the same mailing)
        db.session.execute(delete(Customer))
        db.session.execute(insert(Customer), [
            {"first_name": f"Kunde {i}", "last_name": "Bench", "email": f"c{i}@{tag}.bench.test",
             "email_key": f"c{i}@{tag}.bench.test", "language": LANGUAGES[i % 4]}
            for i in range(int(count))])
        update_settings({"mail_rate_per_minute": 0})
        db.session.commit()
        ids = list(db.session.scalars(select(Customer.id)))
        print("ready", flush=True)
        sys.stdin.readline()
        cpu, started = os.times(), time.perf_counter()
        batch = services.send_password_mails(ids, None)
        db.session.commit()
        while run_batch(batch.id) is not None:
            pass
        seconds = time.perf_counter() - started
        after = os.times()
        sent = db.session.scalar(select(db.func.count(MailLog.id)).where(
            MailLog.status == MailStatus.SENT))
    print(json.dumps({"sent": sent, "seconds": seconds,
                      "cpu": after.user - cpu.user + after.system - cpu.system}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:6])
