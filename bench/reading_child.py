"""The start of the import's reading process: from the spawn to its first parsed row.

A big file is read and parsed by a spawned child (imports/reading.read_in_child). It used to
build a Flask app with Flask-Babel of its own, only for the language of the rows' messages; then
it was given the language (translation.speaking) and built none, but its function lived in
imports/pipeline.py, which loads Flask-SQLAlchemy, the models and the search index; now it lives
in imports/reading.py, which loads none of them. Alternated in the same run:
  bare     a spawned child that imports nothing of ours and hands back one row (the floor);
  app      as the first child: a Flask app and Flask-Babel of its own, force_locale, then
           the same rows (read as reading does);
  no app   the child before reading.py: imports/pipeline.py loaded, then the same rows;
  reading  the child as it is (imports/reading.read_in_child), with duplicate keys and terms;
  stages   only the Flask-free stages (read, map, parse): the same rows parsed, without the
           duplicate keys and search terms.
Each on a 200-row CSV file in Polish with a bad row in ten (the messages are made); printed:
wall milliseconds to the first row and to the last, and the CPU seconds (user + sys) of the
child and of this process. BENCH_REPEAT=N (default 7) runs of each.
"""

import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))
ROWS = 200


def _bare(fields: dict, flag):
    """A child of ours that imports nothing: the cost of spawning Python and unpickling."""
    yield [(0, {}, [], [], [], "", {}, {}, "x")]


def _stages(fields: dict, flag):
    """Only the Flask-free stages: read, combine, parse, in the plan's language."""
    from shopadmin.imports.rows import ParseOptions, RowParser, combine_rows
    from shopadmin.parallel import batched
    from shopadmin.sheets.readers import open_worksheet
    from shopadmin.translation import speaking

    worksheet = open_worksheet(Path(fields["path"]), has_headings=True, spool=True)
    parser = RowParser(worksheet.headings, fields["mapping"], ParseOptions())
    with speaking(fields["language"]):
        yield from batched((parser.parse(row, cells, more), cells) for row, cells, more
                           in combine_rows(worksheet.rows(), worksheet.headings,
                                           fields["mapping"]))


def _with_app(plan, flag):
    """The reading process as it was: an app of its own for the messages' language."""
    from flask import Flask
    from flask_babel import Babel, force_locale

    from shopadmin.config import build_config, instance_path
    from shopadmin.imports.reading import TermsWanted, read_rows
    from shopadmin.parallel import batched

    config = build_config(Path(instance_path()))
    app = Flask("shopadmin-reader")
    app.config.update({key: config[key] for key in (
        "LANGUAGES", "BABEL_DEFAULT_LOCALE", "BABEL_DEFAULT_TIMEZONE",
        "BABEL_TRANSLATION_DIRECTORIES")})
    Babel(app)
    terms = TermsWanted(flag=flag) if flag is not None else None
    with app.app_context(), force_locale(plan.language):
        yield from batched(read_rows(plan, terms))


def _with_pipeline(plan, flag):
    """The reading process before reading.py: its function was in pipeline.py, whose import
    loaded Flask-SQLAlchemy, the models and the search index."""
    import shopadmin.imports.pipeline  # noqa: F401
    from shopadmin.imports.reading import read_in_child

    yield from read_in_child(plan, flag)


def _write_file(folder: Path) -> Path:
    path = folder / "customers.csv"
    lines = ["E-mail;First name;Last name;Country;Newsletter;Birth date"]
    for index in range(ROWS):
        bad = index % 10 == 0
        lines.append(f"anna{index}@shop.test;Anna;Nowak {index};"
                     f"{'Atlantis' if bad else 'Polska'};{'maybe' if bad else 'tak'};"
                     f"{'31.02.1990' if bad else '17.05.1980'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(factory, plan) -> tuple[float, float, float, float, int]:
    """(ms to the first row, ms to the last, child CPU s, own CPU s, rows)."""
    from shopadmin.parallel import parsed_in_child

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    rows = parsed_in_child(factory, (plan, None))
    first, count = None, 0
    for _row in rows:
        if first is None:
            first = time.perf_counter()
        count += 1
    last = time.perf_counter()
    rows.close()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    after_own = resource.getrusage(resource.RUSAGE_SELF)
    child_cpu = (after_children.ru_utime - children.ru_utime
                 + after_children.ru_stime - children.ru_stime)
    own_cpu = after_own.ru_utime - own.ru_utime + after_own.ru_stime - own.ru_stime
    return ((first or last) - started) * 1000, (last - started) * 1000, child_cpu, own_cpu, count


def main() -> None:
    from shopadmin.imports.reading import ReadingPlan, read_in_child

    with tempfile.TemporaryDirectory() as folder:
        path = _write_file(Path(folder))
        mapping = ["email", "first_name", "last_name", "billing_country", "newsletter",
                   "birth_date"]
        plan = ReadingPlan(str(path), True, None, None, mapping, None, False, 0, "pl",
                           test_domains=True)
        fields = {"path": str(path), "mapping": mapping, "language": "pl"}
        kinds = {"bare": (_bare, fields), "app": (_with_app, plan),
                 "no app": (_with_pipeline, plan), "reading": (read_in_child, plan),
                 "stages": (_stages, fields)}
        results: dict[str, list[tuple]] = {name: [] for name in kinds}
        for factory, given in kinds.values():  # warm the file cache and the bytecode
            _run(factory, given)
        order = list(kinds)
        for _ in range(REPEAT):  # each kind first in turn (a child's exit overlaps the next)
            for name in order:
                results[name].append(_run(*kinds[name]))
            order.append(order.pop(0))
    print(f"reading process start, {REPEAT} runs of each alternated (in turn first), {ROWS} rows, "
          f"{os.cpu_count()} cores")
    print(f"{'child':<8} {'first row ms':>13} {'last row ms':>12} {'child CPU s':>12} "
          f"{'own CPU s':>10} {'rows':>6}")
    medians = {}
    for name, runs in results.items():
        first, last, child, own, count = (statistics.median(r[i] for r in runs)
                                          for i in range(5))
        medians[name] = (first, child)
        print(f"{name:<8} {first:>13.0f} {last:>12.0f} {child:>12.3f} {own:>10.3f} "
              f"{int(count):>6}")
    (app_first, app_cpu), (new_first, new_cpu) = medians["app"], medians["no app"]
    bare_first, bare_cpu = medians["bare"]
    stages_first, stages_cpu = medians["stages"]
    print(f"no app vs app: first row {new_first / app_first:.2f}x the wall "
          f"({app_first - new_first:+.0f} ms), child CPU {new_cpu / app_cpu:.2f}x "
          f"({(app_cpu - new_cpu) * 1000:+.0f} ms); above the bare spawn: "
          f"{new_first - bare_first:.0f} ms vs {app_first - bare_first:.0f} ms wall, "
          f"{(new_cpu - bare_cpu) * 1000:.0f} ms vs {(app_cpu - bare_cpu) * 1000:.0f} ms CPU")
    reading_first, reading_cpu = medians["reading"]
    print(f"reading vs no app: first row {reading_first / new_first:.2f}x the wall "
          f"({new_first - reading_first:+.0f} ms), child CPU {reading_cpu / new_cpu:.2f}x "
          f"({(new_cpu - reading_cpu) * 1000:+.0f} ms); above the bare spawn: "
          f"{(reading_cpu - bare_cpu) * 1000:.0f} ms CPU")
    print(f"stages only vs reading: first row {stages_first / reading_first:.2f}x the wall "
          f"({reading_first - stages_first:+.0f} ms), child CPU {stages_cpu / reading_cpu:.2f}x "
          f"({(reading_cpu - stages_cpu) * 1000:+.0f} ms)")


if __name__ == "__main__":
    main()
