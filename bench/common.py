"""Helpers shared by the benchmarks: an app on a bench database, timing, and printing."""

import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask_migrate import upgrade

from shopadmin import create_app

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bench" / "output"


def revision_code(revision: str, scratch: Path) -> Path:
    """The code of a git revision as a folder of its own in `scratch`, with its translations
    compiled: the baseline that a bench alternates with this checkout in one run."""
    folder = Path(tempfile.mkdtemp(dir=scratch, prefix="code-"))
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d",
                    "translations", "--use-fuzzy", "-f"], cwd=folder, capture_output=True,
                   check=True)
    return folder


def bench_app(name: str, **config):
    """An app on bench/output/NAME/ (SQLite), migrated; reused between runs."""
    instance = OUTPUT / name
    instance.mkdir(parents=True, exist_ok=True)
    app = create_app({
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'shopadmin.db'}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        **config,
    })
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    return app


def timings(action: Callable[[], object], repeat: int = 9, warmup: int = 1) -> list[float]:
    """Wall-clock milliseconds of each of `repeat` runs, after `warmup` unmeasured ones."""
    for _ in range(warmup):
        action()
    result = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        result.append((time.perf_counter() - started) * 1000)
    return result


def report(rows: list[tuple[str, list[float]]], baseline: list[float],
           median_target: float, slowest_target: float) -> bool:
    """Print median and slowest of each row beside the baseline; True when all meet targets."""
    base = statistics.median(baseline)
    print(f"{'measure':<38} {'median ms':>10} {'slowest ms':>11} {'x baseline':>11}  ok")
    print(f"{'baseline: primary-key lookup':<38} {base:>10.2f} {max(baseline):>11.2f} "
          f"{1:>11.1f}")
    all_ok = True
    for label, times in rows:
        median, slowest = statistics.median(times), max(times)
        ok = median < median_target and slowest < slowest_target
        all_ok &= ok
        print(f"{label:<38} {median:>10.2f} {slowest:>11.2f} {median / base:>11.1f}  "
              f"{'yes' if ok else 'NO'}")
    print(f"targets: median < {median_target:.0f} ms, slowest < {slowest_target:.0f} ms: "
          f"{'met' if all_ok else 'NOT met'}")
    return all_ok


def report_side_by_side(figures: dict[str, tuple[list[float], list[tuple[str, list[float]]]]],
                        median_target: float, slowest_target: float) -> bool:
    """One line per measure with each database's median / slowest ms; figures maps a database's
    name to (baseline, rows) as measured. True when every database meets the targets."""
    names = list(figures)
    print(f"{'measure':<38}" + "".join(f" {name + ' median/slowest ms':>32}" for name in names))
    baselines = [statistics.median(figures[name][0]) for name in names]
    print(f"{'baseline: primary-key lookup':<38}"
          + "".join(f" {base:>32.2f}" for base in baselines))
    all_ok = True
    for index, (label, _times) in enumerate(figures[names[0]][1]):
        cells = []
        for name in names:
            times = figures[name][1][index][1]
            median, slowest = statistics.median(times), max(times)
            ok = median < median_target and slowest < slowest_target
            all_ok &= ok
            cells.append(f"{median:.1f} / {slowest:.1f}{'' if ok else ' NO'}")
        print(f"{label:<38}" + "".join(f" {cell:>32}" for cell in cells))
    print(f"targets: median < {median_target:.0f} ms, slowest < {slowest_target:.0f} ms: "
          f"{'met' if all_ok else 'NOT met'} on {', '.join(names)}")
    return all_ok


def peak_mb() -> float:
    """This process's peak memory (VmHWM). Not ru_maxrss: Linux carries that over an exec, so a
    step started from a bench run that used more would report the run's peak, not its own."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has spent so far with its ended children (those it
    waited for) and every live descendant: a gunicorn master and its workers, a job worker and
    its reading processes."""
    stats = {}
    for path in glob.glob("/proc/[0-9]*/stat"):
        try:
            stat = Path(path).read_text()
        except OSError:  # (a process that ended meanwhile)
            continue
        fields = stat.rsplit(")", 1)[1].split()
        stats[int(path.split("/")[2])] = (int(fields[1]), [int(value) for value in fields[11:15]])
    ticks, seen = 0, {pid}
    if pid in stats:
        ticks += sum(stats[pid][1])  # its own and its ended children's
    growing = True
    while growing:  # live descendants, their own and their ended children's
        growing = False
        for child, (parent, times) in stats.items():
            if parent in seen and child not in seen:
                seen.add(child)
                ticks += sum(times)
                growing = True
    return ticks / os.sysconf("SC_CLK_TCK")
