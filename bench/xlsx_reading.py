"""The XLSX import's reading side against a same-run baseline: `python -m bench.xlsx_reading`.

Two revisions of the code (BENCH_XLSX_BASE, default main, and this checkout's committed HEAD;
each a `git archive` in a scratch folder, run with this checkout's interpreter) are measured
on the bench's 200,000-row XLSX file (BENCH_XLSX_ROWS; made by bench.imports_cli if missing),
alternated, each first in turn, BENCH_XLSX_REPEAT times (default 1; the median is printed):
  reader   the bare reader: every row of the sheet (sheets/xlsx_reader.py), in a process of
           its own;
  reading  the whole reading process in one process: reader, row parser, search terms,
           duplicate keys and the batches pickled as they are handed over (imports/reading.py
           read_in_child and parallel.batched), without the queue; apart, the CPU seconds of
           pickling the batches (the reading process's share of the hand-over, in its CPU)
           and of unpickling and unpacking them as the writing process does (not in it);
  cli      the documented command, `flask --app wsgi customers import FILE`, end to end on a
           fresh SQLite database (bench.imports_cli), with the CPU of the writing process and
           of the reading process apart;
and, for HEAD only, the same rows from CSV through the command and the bare CSV reader.
Printed: wall seconds, CPU seconds (user + sys) of every process of the step, rows a second,
the peak memory of the largest process. The machine is shared: the wall figures are only
comparable within one run; the CPU figures say more on a busy machine.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .imports_cli import XLSX_RATE, _cli_run, _export, files
from .transfer_import import OUTPUT

BASE = os.environ.get("BENCH_XLSX_BASE", "main")
REPEAT = int(os.environ.get("BENCH_XLSX_REPEAT", "1"))
ROWS = int(os.environ.get("BENCH_XLSX_ROWS", "200000"))

# Run in the code folder of a revision: CPU and peak memory of this process (and children).
_STEP = r"""
import json, pickle, resource, sys, time
from pathlib import Path

step, path = sys.argv[1], Path(sys.argv[2])
started = time.perf_counter()
if step == "reader":
    from shopadmin.sheets.readers import open_worksheet

    rows = sum(1 for _ in open_worksheet(path).rows())
else:
    from shopadmin.imports.headings import suggest_mapping
    from shopadmin.imports.reading import ReadingPlan, read_in_child
    from shopadmin.sheets.readers import open_worksheet

    worksheet = open_worksheet(path)
    plan = ReadingPlan(str(path), True, None, None, suggest_mapping(worksheet.headings), None,
                       False, 0, "de", True, False, False)

    class Wanted:  # the search terms made here for every row (the writer waits)
        value = 1

    from shopadmin.parallel import _unpacked

    rows, dumps, loads = 0, 0.0, 0.0
    for batch in read_in_child(plan, Wanted()):
        before = time.process_time()
        blob = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        dumps += time.process_time() - before
        # (the writer's side of the hand-over, as the writing process does it: not counted
        # in the reading process's CPU below)
        before = time.process_time()
        unpacked = _unpacked(item for item in [pickle.loads(blob)])
        next(unpacked)
        for _parsed, _cells in unpacked:
            pass
        loads += time.process_time() - before
        rows += len(batch)
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
result = {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
          "peak_mb": usage.ru_maxrss / 1024, "rows": rows}
if step == "reading":
    result.update(seconds=seconds - loads, cpu=result["cpu"] - loads, dumps=dumps, loads=loads)
print(json.dumps(result))
"""


def _step(step: str, path: Path, root: Path) -> dict:
    output = subprocess.run([sys.executable, "-c", _STEP, step, str(path)], cwd=root,
                            capture_output=True, text=True)
    if output.returncode:
        sys.exit(f"bench step {step} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def _median(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]


def main() -> int:
    _small, csv_big, xlsx = files()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUTPUT) as scratch_name:
        scratch = Path(scratch_name)
        roots = {BASE[:12]: _export(BASE, scratch), "HEAD": _export("HEAD", scratch)}
        results: dict[tuple[str, str], list[dict]] = {}
        order = list(roots)
        for _ in range(REPEAT):
            for name in order:
                for step in ("reader", "reading"):
                    results.setdefault((step, name), []).append(_step(step, xlsx, roots[name]))
                results.setdefault(("cli", name), []).append(_cli_run(xlsx, scratch,
                                                                      roots[name]))
            order.reverse()
        head = roots["HEAD"]
        csv_reader = _step("reader", csv_big, head)
        csv_cli = _cli_run(csv_big, scratch, head)
    load = os.getloadavg()[0]
    print(f"--- XLSX import, reading side: {ROWS:,} rows, {BASE} against HEAD alternated, "
          f"median of {REPEAT}; load {load:.1f} on {os.cpu_count()} cores")
    print("    writer / reader: CPU seconds of the command's process and of its reading "
          "process; on a quiet two-core machine the import takes about the larger")
    print(f"{'step':<8}{'code':<14}{'seconds':>9}{'CPU s':>8}{'rows/s':>9}{'peak MB':>9}"
          f"{'writer':>8}{'reader':>8}  (reading: pickle / unpickle+unpack CPU s)")
    lines = [(step, name, _median(results[(step, name)]))
             for step in ("reader", "reading", "cli") for name in roots]
    lines += [("reader", "HEAD CSV", csv_reader), ("cli", "HEAD CSV", csv_cli)]
    missed = False
    for step, name, result in lines:
        peak = max(result["peak_mb"], result.get("child_mb", 0))
        split = "".join(f"{result[key]:>8.1f}" if key in result else f"{'':>8}"
                        for key in ("writer_cpu", "reader_cpu"))
        if "loads" in result:
            split += f"  {result['dumps']:.2f} / {result['loads']:.2f}"
        print(f"{step:<8}{name:<14}{result['seconds']:>9.2f}{result['cpu']:>8.2f}"
              f"{ROWS / result['seconds']:>9,.0f}{peak:>9.0f}{split}  {result.get('counts', '')}")
        if step == "cli" and name == "HEAD" and ROWS / result["seconds"] < XLSX_RATE:
            print(f"      MISSED: XLSX import at {XLSX_RATE:,} rows/s")
            missed = True
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
