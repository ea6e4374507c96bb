"""Password mails: 10,000 Account password mails to a loopback SMTP server (aiosmtpd) in a
process of its own, as a mail server would be, which counts what it receives and by how many
addresses, so that a mail sent twice shows.

A mailing is started as staff start it and worked to its end as the worker works it (links,
rendering in four languages, the mail log, one SMTP connection), in a process of its own
(bench/_mailing.py) on SQLite and on the bench's own PostgreSQL (bench/_postgres.py; skipped
when not installed). Each prints mails per second beside the baseline of plain smtplib sending
the same number of minimal messages over one connection to the same server, measured in the
same run (before the mailings and after them, as the load may change), and the CPU seconds of
each process involved: the mailing's, the SMTP server's and the database server's; on a shared
machine compare CPU, and wall time only with the baselines of the same run.

BENCH_MAILS=N             mails a mailing (10,000)
BENCH_MAILS_DATABASES     sqlite,postgresql (the default: both)
BENCH_MAILS_BASE=REV      run that git revision's code too (say main), alternated with this
                          checkout's, each first in turn
BENCH_MAILS_REPEAT=N      mailings of each code on each database (1; 3 with a BASE)
"""

import json
import multiprocessing
import os
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from aiosmtpd.controller import Controller

from . import _postgres
from .common import OUTPUT, bench_app, revision_code

COUNT = int(os.environ.get("BENCH_MAILS", 10_000))
DATABASES = os.environ.get("BENCH_MAILS_DATABASES", "sqlite,postgresql").split(",")
BASE = os.environ.get("BENCH_MAILS_BASE", "")
REPEAT = int(os.environ.get("BENCH_MAILS_REPEAT", 3 if BASE else 1))
TARGET = 200
ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


class Counter:
    """Counts the messages received, and those to an address that had one already."""

    def __init__(self, received, twice=None):
        self.received, self.twice = received, twice
        self.addresses: set[str] = set()

    async def handle_DATA(self, server, session, envelope):
        with self.received.get_lock():
            self.received.value += 1
        if self.twice is not None:
            for address in envelope.rcpt_tos:
                if address in self.addresses:
                    with self.twice.get_lock():
                        self.twice.value += 1
                self.addresses.add(address)
        return "250 OK"


def serve(port: int, received, stop, twice=None) -> None:
    """The SMTP server's process: receive and count until told to stop."""
    controller = Controller(Counter(received, twice), hostname="127.0.0.1", port=port)
    controller.start()
    stop.wait()
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has spent so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def plain_smtplib(port: int, server_pid: int) -> dict:
    """The baseline: COUNT minimal messages over one connection, with smtplib alone."""
    cpu, server_cpu, started = os.times(), process_cpu(server_pid), time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for index in range(COUNT):
            smtp.sendmail("shop@bench.test", [f"c{index}@baseline.test"],
                          f"Subject: test {index}\r\n\r\nHello".encode())
    seconds, after = time.perf_counter() - started, os.times()
    return {"rate": COUNT / seconds, "seconds": seconds,
            "cpu": after.user - cpu.user + after.system - cpu.system,
            "server": process_cpu(server_pid) - server_cpu}



def mailing(code: Path, url: str, instance: Path, port: int, tag: str, server_pid: int,
            database_cpu) -> dict:
    """One mailing of COUNT mails by the code in `code` (bench/_mailing.py)."""
    instance.mkdir(parents=True, exist_ok=True)
    errors = instance / "stderr.txt"
    with errors.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_mailing.py"), url, str(instance),
             str(port), str(COUNT), tag],
            cwd=code, env={**os.environ, "PYTHONPATH": str(code)}, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
        assert child.stdin is not None and child.stdout is not None
        while (line := child.stdout.readline()) and line.strip() != "ready":
            pass
        server_cpu, database = process_cpu(server_pid), database_cpu()
        child.stdin.write("go\n")
        child.stdin.flush()
        result_line = child.stdout.readline()
        server_cpu, database = process_cpu(server_pid) - server_cpu, database_cpu() - database
        child.wait()
    if child.returncode or not result_line:
        raise SystemExit(f"bench mails: the mailing failed:\n{errors.read_text()[-3000:]}")
    result = json.loads(result_line)
    result.update(server=server_cpu, database=database, rate=result["sent"] / result["seconds"])
    return result


def _migrated(url: str) -> None:
    """The database at `url` brought to this checkout's head (the template of the mailings')."""
    from flask_migrate import upgrade

    from shopadmin.extensions import db

    app = bench_app("mails", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


def _databases(stack: ExitStack, scratch: Path) -> dict:
    """name -> (function giving a fresh migrated database's URL, function giving its server's
    CPU seconds so far)."""
    found = {}
    if "sqlite" in DATABASES:
        template = scratch / "template.db"
        _migrated(f"sqlite:///{template}")

        def sqlite_url(tag: str) -> str:
            (scratch / tag).mkdir(parents=True, exist_ok=True)
            shutil.copy(template, scratch / tag / "shopadmin.db")
            return f"sqlite:///{scratch / tag / 'shopadmin.db'}"
        found["sqlite"] = (sqlite_url, lambda: 0.0)
    if "postgresql" in DATABASES:
        server = stack.enter_context(_postgres.postgres_server())
        if server is not None:
            _migrated(_postgres.fresh_database(server, "bench_mails_template"))

            def postgres_url(tag: str) -> str:
                return _postgres.fresh_database(server, "bench_mails",
                                                template="bench_mails_template")
            found["postgresql"] = (postgres_url, lambda: _postgres.server_cpu() or 0.0)
    return found


def _line(label: str, run: dict) -> str:
    ms = 1000 / max(run["sent"], 1)
    return (f"  {label:<34} {run['rate']:>7,.0f} mails/s  {run['sent']:,} in "
            f"{run['seconds']:.1f} s; CPU: mailing {run['cpu']:.1f} s ({run['cpu'] * ms:.2f} "
            f"ms a mail), SMTP server {run['server']:.1f} s, database server "
            f"{run['database']:.1f} s; received {run['received']:,}, twice {run['twice']}")


def main() -> None:
    port = free_port()
    context = multiprocessing.get_context("spawn")
    received, twice, stop = context.Value("l", 0), context.Value("l", 0), context.Event()
    server = context.Process(target=serve, args=(port, received, stop, twice), daemon=True)
    server.start()
    for _ in range(100):  # until the server listens
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    assert server.pid is not None
    OUTPUT.mkdir(parents=True, exist_ok=True)
    print(f"{COUNT:,} password mails; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores", flush=True)
    runs: dict[tuple[str, str], list[dict]] = {}
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=OUTPUT)))
        stack.callback(lambda: (stop.set(), server.join(10)))
        codes = {"HEAD": ROOT}
        if BASE:
            codes = {BASE: revision_code(BASE, scratch), "HEAD": revision_code("HEAD", scratch)}
        baselines = [plain_smtplib(port, server.pid)]
        print(f"  {'baseline: plain smtplib':<34} {baselines[0]['rate']:>7,.0f} mails/s  "
              f"(CPU: client {baselines[0]['cpu']:.1f} s, SMTP server "
              f"{baselines[0]['server']:.1f} s)", flush=True)
        order = list(codes)
        for name, (fresh_url, database_cpu) in _databases(stack, scratch).items():
            for repeat in range(REPEAT):
                for code in order:
                    tag = f"r{repeat}-{name}-{code}".replace("/", "-").lower()
                    before, before_twice = received.value, twice.value
                    run = mailing(codes[code], fresh_url(tag), scratch / tag, port, tag,
                                  server.pid, database_cpu)
                    run.update(received=received.value - before,
                               twice=twice.value - before_twice)
                    runs.setdefault((name, code), []).append(run)
                    print(_line(f"{name} {code} (run {repeat + 1})", run), flush=True)
                    shutil.rmtree(scratch / tag, ignore_errors=True)
                order.reverse()
        baselines.append(plain_smtplib(port, server.pid))
    print(f"  {'baseline again: plain smtplib':<34} {baselines[1]['rate']:>7,.0f} mails/s; "
          f"load average {os.getloadavg()[0]:.1f}")
    raw = statistics.median(run["rate"] for run in baselines)
    print(f"\nmedians (plain smtplib {raw:,.0f} mails/s):")
    met = True
    for (name, code), found in runs.items():
        rate = statistics.median(run["rate"] for run in found)
        cpu = statistics.median(run["cpu"] / run["sent"] for run in found) * 1000
        exact = all(run["sent"] == run["received"] == COUNT and run["twice"] == 0
                    for run in found)
        met &= code != "HEAD" or (rate >= TARGET and exact)
        print(f"  {name:<10} {code:<12} {rate:>7,.0f} mails/s = {rate / raw:.2f} x baseline; "
              f"mailing CPU {cpu:.2f} ms a mail; every mail once: {'yes' if exact else 'NO'}")
    print(f"target >= {TARGET} mails/s, each mail received once: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
