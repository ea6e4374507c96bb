"""Before the rows are counted: a file's rows estimated from its size (to choose a second
reading process), and a reading process that starts at once and ends when its rows are
dropped."""

import multiprocessing
import time

from openpyxl import Workbook

from shopadmin.parallel import started_in_child
from shopadmin.sheets.readers import ESTIMATE_CSV_BYTES, open_worksheet


def test_a_csv_files_rows_are_estimated_from_its_first_lines(app, tmp_path):
    small = tmp_path / "small.csv"
    small.write_text("E-mail;Name\na@shop.pl;Ann\nb@shop.pl;Bob", encoding="utf-8")
    assert open_worksheet(small).estimate_rows() == 3  # whole: its lines (the last unended)

    big = tmp_path / "big.csv"
    line = "x{n}@shop.pl;\"Name\nwith a line break\"\n"
    big.write_text("E-mail;Name\n" + "".join(line.format(n=n % 10) for n in range(20_000)),
                   encoding="utf-8")
    estimate = open_worksheet(big).estimate_rows()
    assert big.stat().st_size > 4 * ESTIMATE_CSV_BYTES
    # Rows with a line break in a cell count twice: rather too many than too few.
    assert 38_000 < estimate < 42_000
    assert open_worksheet(big).count_rows() == 20_000


def test_an_xlsx_sheets_rows_are_estimated_from_its_unpacked_size(app, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["E-mail", "First name", "Last name", "City"])
    for n in range(3000):
        sheet.append([f"customer{n}@shop.pl", "Małgorzata", f"Żółkiewska {n}", "Łódź"])
    path = tmp_path / "f.xlsx"
    workbook.save(path)
    worksheet = open_worksheet(path)
    assert 1000 < worksheet.estimate_rows() < 30_000
    assert worksheet.count_rows() == 3000


def _numbers(count: int):
    for start in range(0, count, 10):
        yield list(range(start, start + 10))


def test_a_started_reading_process_runs_before_its_rows_are_asked_for_and_ends_when_dropped():
    rows = started_in_child(spawned=(_numbers, (10**9,)))
    child = next(iter(multiprocessing.active_children()))
    assert child.is_alive()  # started before the first row is asked for
    assert next(rows) == list(range(10))
    rows.close()
    deadline = time.monotonic() + 10
    while child.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not child.is_alive()
