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
BENCH_XLSX_STAGES=1 adds, for each revision, the reading process's CPU seconds by stage, each
measured as the stages up to it run alone in a process of their own (a stage's share is the
difference from the one before): the sheet's XML inflated, shared strings read, cells cut and
made texts (the bare xlsx reader), blank rows left out, rows combined (Magento's address
rows), values parsed, duplicate keys and search terms worked out, the duplicates looked up and
the batches made, the batches pickled.
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

from .common import revision_code
from .imports_cli import XLSX_RATE, _cli_run, files
from .transfer_import import OUTPUT

BASE = os.environ.get("BENCH_XLSX_BASE", "main")
REPEAT = int(os.environ.get("BENCH_XLSX_REPEAT", "1"))
STAGES = os.environ.get("BENCH_XLSX_STAGES", "") not in ("", "0")
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


# The reading process's stages, each run with those before it (cumulative), in a process of
# its own, CPU seconds of the last one printed (the mapping and the reader are set up first,
# outside the clock).
_STAGES = r"""
import gc, json, pickle, sys, time, zipfile
from pathlib import Path

import email_validator

from shopadmin.customers.terms import terms_text
from shopadmin.imports.headings import suggest_mapping
from shopadmin.imports.reading import ReadingPlan, fewer_collections, read_in_child, row_keys
from shopadmin.imports.rows import ParseOptions, RowParser, combine_rows
from shopadmin.sheets import xlsx_reader
from shopadmin.sheets.readers import cell_text, open_worksheet
from shopadmin.translation import speaking

stage, path = sys.argv[1], Path(sys.argv[2])
email_validator.TEST_ENVIRONMENT = True
worksheet = open_worksheet(path)
mapping = suggest_mapping(worksheet.headings)
parser = RowParser(worksheet.headings, mapping, ParseOptions())
plan = ReadingPlan(str(path), True, None, None, mapping, None, False, 0, "de", True, False,
                   False)


class Wanted:
    value = 1


def inflate():
    with zipfile.ZipFile(path) as archive, archive.open(
            xlsx_reader.sheet_part(archive)[0]) as sheet:
        while sheet.read(1 << 20):
            pass


def strings():
    with zipfile.ZipFile(path) as archive:
        shared = xlsx_reader.SharedStrings(archive)
        for _ in shared.items:
            pass


def parsed(keys_and_terms):
    for row, cells, more in combine_rows(worksheet.rows(), worksheet.headings, mapping):
        values = parser.parse(row, cells, more)
        if keys_and_terms:
            values.keys = row_keys(values.values)
            if not values.errors:
                values.terms = terms_text(values.values)


def batches(pickled):
    for batch in read_in_child(plan, Wanted()):
        if pickled:
            pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)


run = {
    "inflate": inflate, "strings": strings,
    "reader": lambda: sum(1 for _ in xlsx_reader.xlsx_rows(path, cell_text)),
    "rows": lambda: sum(1 for _ in worksheet.rows()),
    "combine": lambda: sum(1 for _ in combine_rows(worksheet.rows(), worksheet.headings,
                                                   mapping)),
    "parse": lambda: parsed(False), "keys+terms": lambda: parsed(True),
    "seen+batch": lambda: batches(False), "pickle": lambda: batches(True),
}[stage]
gc.collect()
with speaking("de"), fewer_collections:
    before = time.process_time()
    run()
    print(json.dumps({"cpu": time.process_time() - before}))
"""
STAGE_NAMES = ("inflate", "strings", "reader", "rows", "combine", "parse", "keys+terms",
               "seen+batch", "pickle")


def _stages(path: Path, roots: dict[str, Path]) -> dict[str, dict[str, float]]:
    """CPU seconds of each stage up to and with it, by revision (alternated stage by stage)."""
    result: dict[str, dict[str, float]] = {name: {} for name in roots}
    for stage in STAGE_NAMES:
        for name, root in roots.items():
            output = subprocess.run([sys.executable, "-c", _STAGES, stage, str(path)],
                                    cwd=root, capture_output=True, text=True)
            if output.returncode:
                sys.exit(f"bench stage {stage} failed:\n{output.stderr[-3000:]}")
            result[name][stage] = json.loads(output.stdout.strip().splitlines()[-1])["cpu"]
    return result


def _print_stages(stages: dict[str, dict[str, float]]) -> None:
    names = list(stages)
    print("--- the reading process by stage: CPU seconds up to and with each stage (its own "
          "share after the slash)")
    print(f"{'stage':<12}" + "".join(f"{name:>18}" for name in names))
    for stage in STAGE_NAMES:
        cells = []
        for name in names:
            upto = stages[name][stage]
            # (the XML read builds on the inflate and the shared strings; the rest on the
            # stage before)
            before = {"inflate": 0.0, "strings": 0.0}.get(stage)
            if before is None:
                index = STAGE_NAMES.index(stage)
                before = (stages[name]["inflate"] + stages[name]["strings"]
                          if stage == "reader" else stages[name][STAGE_NAMES[index - 1]])
            cells.append(f"{upto:>9.2f} /{upto - before:>6.2f}")
        print(f"{stage:<12}" + "".join(f"{cell:>18}" for cell in cells))


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
        roots = {BASE[:12]: revision_code(BASE, scratch), "HEAD": revision_code("HEAD", scratch)}
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
        stages = _stages(xlsx, roots) if STAGES else None
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
    if stages:
        _print_stages(stages)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
