"""A PostgreSQL server of the bench's own: Debian's package, on a free loopback port, with its
data under bench/output/postgres (kept, so a later run reuses the databases it built)."""

import glob
import os
import shlex
import shutil
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path

from .common import OUTPUT


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_owner(command: list[str]) -> list[str]:
    """initdb and pg_ctl refuse root: as root, run them as the postgres user."""
    if os.geteuid() == 0:
        return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
    return command


@contextmanager
def postgres_server(extra_options: str = ""):
    """Yields a postgresql:// URL of the `postgres` database, or None (with the reason printed)
    when PostgreSQL is not installed (`bash scripts/system-packages.sh postgresql`).
    BENCH_POSTGRES_URL names a running server to use instead. extra_options: more server
    options (`-c name=value ...`) for this start, after BENCH_POSTGRES_OPTIONS (the same, from
    the environment: `-c shared_buffers=2GB` to compare a server sized for the working set)."""
    if os.environ.get("BENCH_POSTGRES_URL"):
        yield os.environ["BENCH_POSTGRES_URL"]
        return
    binaries = _binaries()
    if binaries is None:
        print("PostgreSQL figures skipped: install Debian's postgresql "
              "(bash scripts/system-packages.sh postgresql)")
        yield None
        return
    folder = OUTPUT / "postgres"
    data = folder / "data"
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    if not (data / "PG_VERSION").exists():
        subprocess.run(_as_owner([str(binaries / "initdb"), "-D", str(data), "-A", "trust",
                                  "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"]),
                       check=True, stdout=subprocess.DEVNULL)
    port = _free_port()
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off "
               f"-c shared_buffers=256MB -c synchronous_commit=off "
               f"{os.environ.get('BENCH_POSTGRES_OPTIONS', '')} {extra_options}")
    subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-l",
                              str(folder / "log"), "-w", "-o", options, "start"]),
                   check=True, stdout=subprocess.DEVNULL)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast",
                                  "-w", "stop"]), check=False, stdout=subprocess.DEVNULL)


def database(url: str, name: str) -> str:
    """The URL of database `name` on the server at `url`, created when missing."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                   {"name": name})
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0] + "/" + name


def fresh_database(url: str, name: str, keep: bool = True, template: str = "") -> str:
    """Database `name` on the server at `url`, dropped and made again empty (or a copy of
    database `template`; or only dropped, keep=False); returns its URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if keep:
            connection.execute(text(f'CREATE DATABASE "{name}"'
                                    + (f' TEMPLATE "{template}"' if template else "")))
    engine.dispose()
    return url.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0] + "/" + name


def server_cpu() -> float | None:
    """CPU seconds (user + system) the bench's own server has spent so far: the postmaster's,
    its ended children's (backends, autovacuum workers) and its live children's (the backends
    of open connections, the checkpointer, the WAL writer); None for a server not started by
    the bench (BENCH_POSTGRES_URL)."""
    if os.environ.get("BENCH_POSTGRES_URL"):
        return None
    ticks = _server_ticks()
    return None if ticks is None else ticks / os.sysconf("SC_CLK_TCK")


def server_cpu_ms() -> float:
    """The same in milliseconds, for a server running from bench/output/postgres whoever
    started it; 0 without one. Counted in ticks of 10 ms: only the mean over several requests
    says much."""
    ticks = _server_ticks()
    return 0.0 if ticks is None else ticks * 1000 / os.sysconf("SC_CLK_TCK")


def _server_ticks() -> int | None:
    pid_file = OUTPUT / "postgres" / "data" / "postmaster.pid"
    if not pid_file.exists():
        return None
    postmaster = pid_file.read_text().split()[0]
    ticks = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:  # (a process that ended meanwhile)
            continue
        pid = stat.split("/")[2]
        if pid == postmaster:  # its own and its ended children's
            ticks += sum(int(value) for value in fields[11:15])
        elif fields[1] == postmaster:  # a live child's own
            ticks += int(fields[11]) + int(fields[12])
    return ticks
