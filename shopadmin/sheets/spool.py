"""An uploaded XLSX sheet read once: its rows kept beside the upload as CSV for the next pass.

An import reads its file more than once (the preview, then the apply; a resumed run again).
Reading an XLSX sheet costs several times what reading the same rows as CSV does, so the first
complete read of an upload writes every row as it goes (row number, the columns of formulas
without a result, the cell texts) into `<upload>.rows`, and later reads take the rows from
there at the speed of the csv module. The spool names the size and modification time of the
upload it was made from and is ignored for any other; it is written under a name of its own
and renamed when complete, so a read that stops early or fails leaves none; it goes with the
upload (import_services.delete_upload).
"""

import contextlib
import csv
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

MARK = "shopadmin-rows-1"


def spool_path(upload: Path) -> Path:
    return upload.with_name(upload.name + ".rows")


def _signature(upload: Path) -> list[str]:
    stat = upload.stat()
    return [MARK, str(stat.st_size), str(stat.st_mtime_ns)]


def spooled_rows(upload: Path) -> Iterator[tuple[int, list[str], list[int]]] | None:
    """The rows kept from the upload's first complete read; None when there are none."""
    spool = spool_path(upload)
    try:
        handle = spool.open(encoding="utf-8", newline="")
    except FileNotFoundError:
        return None
    reader = csv.reader(handle)
    if next(reader, None) != _signature(upload):
        handle.close()
        return None
    return _rows(handle, reader)


def _rows(handle, reader) -> Iterator[tuple[int, list[str], list[int]]]:
    with handle:
        for number, formulas, *cells in reader:
            yield int(number), cells, [int(column) for column in formulas.split()]


def spooling(upload: Path,
             rows: Iterator[tuple[int, list[str], list[int]]]
             ) -> Iterator[tuple[int, list[str], list[int]]]:
    """The rows passed on, and written to the spool as they go; the spool is kept only when
    the rows have been read to the end."""
    spool = spool_path(upload)
    part = spool.with_name(f"{spool.name}.{uuid.uuid4().hex}.part")
    complete = False
    try:
        with part.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(_signature(upload))
            for number, cells, formulas in rows:
                writer.writerow([number, " ".join(map(str, formulas)), *cells])
                yield number, cells, formulas
            complete = True
        os.replace(part, spool)
    finally:
        if not complete:
            with contextlib.suppress(OSError):
                part.unlink()


def remove_spool(upload: Path) -> None:
    spool_path(upload).unlink(missing_ok=True)
