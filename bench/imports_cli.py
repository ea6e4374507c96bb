"""The documented command line import end to end: `flask --app wsgi customers import FILE`.

Each step is a process of its own, timed from its start (process start included) to its end,
on a fresh SQLite database (migrated before the clock starts):
  start   `flask --app wsgi customers --help`: what starting the command costs alone;
  raw     the same rows with csv into our customers table in one executemany (the floor);
  read    the bare readers (every row of the CSV and of the XLSX file as the import reads it;
          beside ours, python-calamine and openpyxl's read-only mode on the same XLSX file);
  cli     the import of 100,000 new customers from CSV (BENCH_CLI_ROWS; target under 5 s), and
          of the bench's 200,000 rows as Excel saves them (BENCH_XLSX_ROWS; target 15,000
          rows/s), beside the same 200,000 rows from CSV;
with wall seconds, the CPU seconds of the process and its children, and the peak memory of the
largest of them (target under 300 MB); for an import, the CPU seconds of the writing process
and of the reading one apart (on a quiet two-core machine the wall time is about the larger).
BENCH_CLI_REPEAT=3 takes the median of three runs. BENCH_CLI_BASE=REVISION (say main) adds a
same-run baseline: that revision of the code (git archive into the scratch folder, run with this
checkout's interpreter) beside this checkout's committed HEAD (exported the same way, so that
edits in progress do not count), for the start and the 100,000-row CSV import, alternated;
BENCH_CLI_BASE_XLSX=1 alternates the 200,000-row XLSX import of the two too.
BENCH_CLI_QUICK=1 leaves out the bare readers and the 200,000-row imports. BENCH_CLI_PHASES=1
adds, for each revision measured, one more 100,000-row import run by bench/import_phases.py:
the writing process's CPU seconds by stage (plan, customers, search index, audit, ...), so
that a change's effect can be told apart from the machine's load.

BENCH_CLI_ROWS=20000 BENCH_XLSX_ROWS=20000 python -m bench.imports_cli   for a quick look.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import revision_code
from .transfer_import import OUTPUT, _run, excel_like, generate

CLI_ROWS = int(os.environ.get("BENCH_CLI_ROWS", "100000"))
XLSX_ROWS = int(os.environ.get("BENCH_XLSX_ROWS", "200000"))
REPEAT = int(os.environ.get("BENCH_CLI_REPEAT", "1"))
BASE = os.environ.get("BENCH_CLI_BASE", "")
QUICK = os.environ.get("BENCH_CLI_QUICK", "") not in ("", "0")
PHASES = os.environ.get("BENCH_CLI_PHASES", "") not in ("", "0")
BASE_XLSX = os.environ.get("BENCH_CLI_BASE_XLSX", "") not in ("", "0")
CLI_SECONDS, XLSX_RATE, MEMORY_MB = 5.0, 15_000, 300
ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
# The flask command as FLASK runs it, which also writes, as it exits, the CPU seconds of its
# own process (the writer) and of its children (the reading process) to BENCH_RUSAGE: on a
# quiet machine with two cores the import takes about the larger of the two (plus start),
# so a busy machine's wall time can be told apart from the import's.
CPU_SPLIT = [sys.executable, "-c", (
    "import atexit, json, os, resource, sys\n"
    "def cpu(who):\n"
    "    usage = resource.getrusage(who)\n"
    "    return usage.ru_utime + usage.ru_stime\n"
    "def write():\n"
    "    with open(os.environ['BENCH_RUSAGE'], 'w') as handle:\n"
    "        json.dump({'writer_cpu': cpu(resource.RUSAGE_SELF),\n"
    "                   'reader_cpu': cpu(resource.RUSAGE_CHILDREN)}, handle)\n"
    "atexit.register(write)\n"
    "sys.argv[0] = 'flask'\n"
    "from flask.cli import main\n"
    "main()"), "--app", "wsgi"]


def _timed(command: list[str], folder: Path, root: Path = ROOT) -> dict:
    """Wall seconds of one command run in the instance folder (from the code in `root`), and
    what it printed."""
    environment = {**os.environ, "SHOPADMIN_INSTANCE_PATH": str(folder),
                   "BENCH_RUSAGE": str(folder / "rusage.json")}
    started = time.perf_counter()
    process = subprocess.run(command, cwd=root, env=environment, capture_output=True,
                             text=True)
    seconds = time.perf_counter() - started
    if process.returncode:
        sys.exit(f"bench step {' '.join(command[3:])} failed:\n{process.stderr[-3000:]}")
    result = {"seconds": seconds, "output": process.stdout}
    split = folder / "rusage.json"
    if split.exists():
        result.update(json.loads(split.read_text()))
        split.unlink()
    return result


def _measured(command: list[str], folder: Path, root: Path = ROOT) -> dict:
    """_timed in a child of its own, so that the resource figures are this command's alone."""
    code = ("import json, resource, sys; from pathlib import Path; "
            "from bench.imports_cli import _timed; "
            "result = _timed(sys.argv[3:], Path(sys.argv[1]), Path(sys.argv[2])); "
            "usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "result.update(cpu=usage.ru_utime + usage.ru_stime, peak_mb=usage.ru_maxrss / 1024); "
            "print(json.dumps(result))")
    output = subprocess.run([sys.executable, "-c", code, str(folder), str(root), *command],
                            cwd=ROOT,
                            capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def _with_cpu(step: str, path: Path, scratch: Path) -> dict:
    """transfer_import's _run (a step in a child of its own), with the child's CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = _run(step, path, scratch)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def _fresh_instance(scratch: Path, root: Path = ROOT) -> Path:
    folder = Path(tempfile.mkdtemp(dir=scratch))
    subprocess.run([*FLASK, "setup"], cwd=root, capture_output=True, check=True,
                   env={**os.environ, "SHOPADMIN_INSTANCE_PATH": str(folder)})
    return folder


def _cli_run(path: Path, scratch: Path, root: Path = ROOT) -> dict:
    folder = _fresh_instance(scratch, root)
    result = _measured([*CPU_SPLIT, "customers", "import", str(path)], folder, root)
    summary = next((line for line in result.pop("output").splitlines()
                    if line.startswith("Import ")), "")
    result["counts"] = summary.split(": ", 1)[-1]
    return result


def phases_run(path: Path, scratch: Path, root: Path = ROOT) -> dict:
    """One import by bench/import_phases.py (this checkout's) in the code of `root`: the
    writer's CPU seconds by stage."""
    folder = _fresh_instance(scratch, root)
    target = folder / "phases.json"
    subprocess.run([sys.executable, str(ROOT / "bench" / "import_phases.py"), str(path)],
                   cwd=root, capture_output=True, check=True,
                   env={**os.environ, "SHOPADMIN_INSTANCE_PATH": str(folder),
                        "BENCH_PHASES": str(target)})
    return json.loads(target.read_text())


def print_phases(runs: dict[str, dict]) -> None:
    names = list(dict.fromkeys(name for run in runs.values() for name in run["phases"]))
    print("--- the writing process's CPU seconds by stage (one 100,000-row import each; "
          "bench/import_phases.py)")
    print(f"{'stage':<24}" + "".join(f"{label[:12]:>14}" for label in runs))
    for name in names:
        print(f"{name:<24}" + "".join(f"{run['phases'].get(name, 0):>14.3f}"
                                      for run in runs.values()))
    for key in ("writer_cpu", "reader_cpu", "seconds"):
        print(f"{key:<24}" + "".join(f"{run[key]:>14.2f}" for run in runs.values()))
    print("--- the same imports' wall seconds from the script's start to each moment (start: to "
          "the first batch; rows: to the last batch written; tail: to the indexes built and the "
          "report; the process's exit follows the report)")
    moments = list(dict.fromkeys(name for run in runs.values() for name in run.get("wall", {})))
    for name in moments:
        print(f"{name:<24}" + "".join(f"{run.get('wall', {}).get(name, 0):>14.2f}"
                                      for run in runs.values()))


def _median(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]


def cli_import(path: Path, scratch: Path) -> dict:
    return _median([_cli_run(path, scratch) for _ in range(REPEAT)])



def baseline_steps(csv_small: Path, scratch: Path, xlsx: Path | None = None) -> list[tuple]:
    """Start and 100,000-row import of BASE and of HEAD, alternated (each first in turn); with
    `xlsx` (BENCH_CLI_BASE_XLSX=1), that file's import too, alternated the same way."""
    roots = {f"{BASE[:12]}": revision_code(BASE, scratch), "HEAD": revision_code("HEAD", scratch)}
    starts: dict[str, list[dict]] = {name: [] for name in roots}
    imports: dict[str, list[dict]] = {name: [] for name in roots}
    sheets: dict[str, list[dict]] = {name: [] for name in roots}
    order = list(roots)
    for _ in range(REPEAT):
        for name in order:
            folder = _fresh_instance(scratch, roots[name])
            starts[name].append(_measured([*FLASK, "customers", "--help"], folder, roots[name]))
            imports[name].append(_cli_run(csv_small, scratch, roots[name]))
        if xlsx is not None:
            for name in order:
                sheets[name].append(_cli_run(xlsx, scratch, roots[name]))
        order.reverse()
    steps = []
    for name in roots:
        steps.append(("start", name, 1, _median(starts[name])))
        steps.append(("cli", f"{name} CSV", CLI_ROWS, _median(imports[name])))
        if xlsx is not None:
            steps.append(("cli", f"{name} XLSX", XLSX_ROWS, _median(sheets[name])))
    if PHASES:
        steps.append(("phases", "", 0, {name: phases_run(csv_small, scratch, roots[name])
                                        for name in order}))
    return steps


def files() -> tuple[Path, Path, Path]:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    paths = []
    for rows in (CLI_ROWS,) if QUICK else (CLI_ROWS, XLSX_ROWS):
        path = OUTPUT / f"customers-{rows}-warnings.csv"
        if not path.exists():
            generate(path, rows)
        paths.append(path)
    if QUICK and not BASE_XLSX:
        return paths[0], paths[0], paths[0]  # (the bigger files are not read)
    if QUICK:  # (the XLSX file is made from the bigger CSV file)
        path = OUTPUT / f"customers-{XLSX_ROWS}-warnings.csv"
        if not path.exists():
            generate(path, XLSX_ROWS)
        paths.append(path)
    xlsx = OUTPUT / f"customers-{XLSX_ROWS}-warnings.xlsx"
    if not xlsx.exists():
        excel_like(paths[1], xlsx, XLSX_ROWS)
    return paths[0], paths[1], xlsx


def main() -> int:
    csv_small, csv_big, xlsx = files()
    with tempfile.TemporaryDirectory(dir=OUTPUT) as scratch_name:
        scratch = Path(scratch_name)
        folder = _fresh_instance(scratch)
        starts = sorted((_measured([*FLASK, "customers", "--help"], folder)
                         for _ in range(3)), key=lambda run: run["seconds"])
        start = starts[1]
        steps = [("raw", f"{CLI_ROWS:,} CSV", CLI_ROWS, _with_cpu("raw", csv_small, scratch))]
        if BASE:
            steps += baseline_steps(csv_small, scratch, xlsx if BASE_XLSX else None)
        elif PHASES:
            steps.append(("phases", "", 0, {"HEAD": phases_run(csv_small, scratch)}))
        steps += [] if QUICK else [
            ("read", f"{XLSX_ROWS:,} CSV", XLSX_ROWS, _with_cpu("read", csv_big, scratch)),
            ("read", f"{XLSX_ROWS:,} XLSX", XLSX_ROWS, _with_cpu("read", xlsx, scratch)),
            ("read", "  calamine", XLSX_ROWS, _with_cpu("calamine", xlsx, scratch)),
            ("read", "  openpyxl", XLSX_ROWS, _with_cpu("openpyxl", xlsx, scratch)),
            ("cli", f"{CLI_ROWS:,} CSV", CLI_ROWS, cli_import(csv_small, scratch)),
            ("cli", f"{XLSX_ROWS:,} CSV", XLSX_ROWS, cli_import(csv_big, scratch)),
            ("cli", f"{XLSX_ROWS:,} XLSX", XLSX_ROWS, cli_import(xlsx, scratch)),
        ]
    load = os.getloadavg()[0]
    print(f"--- the CLI import end to end (process start included), SQLite; load {load:.1f} "
          f"on {os.cpu_count()} cores; starting `flask customers --help`: "
          f"{start['seconds']:.2f} s, {start['cpu']:.2f} s CPU")
    print("    read: the bare readers (ours; python-calamine and openpyxl read-only on the same "
          "XLSX file)")
    print("    writer / reader: CPU seconds of the command's process and of its reading "
          "process; on a quiet machine with two cores the import takes about the larger")
    print(f"{'step':<6}{'file':<14}{'seconds':>9}{'CPU s':>7}{'rows/s':>9}{'peak MB':>9}"
          f"{'writer':>8}{'reader':>8}  counts")
    missed = False
    phases = [result for step, _label, _rows, result in steps if step == "phases"]
    for step, label, rows, result in steps:
        if step == "phases":
            continue
        if step == "start":
            print(f"start {label:<14}{result['seconds']:>9.2f}{result['cpu']:>7.2f}"
                  f"   (`flask customers --help`)")
            continue
        cpu = f"{result['cpu']:>7.1f}" if "cpu" in result else f"{'':>7}"
        split = "".join(f"{result[key]:>8.1f}" if key in result else f"{'':>8}"
                        for key in ("writer_cpu", "reader_cpu"))
        peak = max(result["peak_mb"], result.get("child_mb", 0))
        print(f"{step:<6}{label:<14}{result['seconds']:>9.1f}{cpu}"
              f"{rows / result['seconds']:>9,.0f}{peak:>9.0f}{split}  "
              f"{result.get('counts', '')}")
        if step != "cli":
            continue
        if label.endswith("XLSX") and rows / result["seconds"] < XLSX_RATE:
            print(f"      MISSED: XLSX import at {XLSX_RATE:,} rows/s")
            missed = True
        if (rows == CLI_ROWS and label.endswith("CSV") and result["seconds"] > CLI_SECONDS
                and not label.startswith(BASE[:12] or "-")):
            print(f"      MISSED: {CLI_ROWS:,} rows from CSV in under {CLI_SECONDS:.0f} s")
            missed = True
        if result["peak_mb"] > MEMORY_MB:
            print(f"      MISSED: peak memory under {MEMORY_MB} MB")
            missed = True
    for runs in phases:
        print_phases(runs)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
