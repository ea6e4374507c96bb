"""Stand-in (tests only, see __init__): the minimal contract of transfer-read's writers.py."""
import csv

from shopadmin.transfer.cells import neutralise

FORMATS = ("csv", "csv_semicolon", "xlsx", "json")


def write_worksheet(path, fmt, headings, rows):
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";" if fmt == "csv_semicolon" else ",")
        writer.writerow(headings)
        for row in rows:
            writer.writerow([neutralise(c or "") for c in row])
            count += 1
    return count
