"""Stand-in (tests only, see __init__): the minimal contract of transfer-read's readers.py."""
import csv
from dataclasses import dataclass
from pathlib import Path

from shopadmin.errors import DomainError


class WorksheetError(DomainError):
    pass


@dataclass
class Worksheet:
    path: Path
    format: str
    encoding: str | None
    delimiter: str | None
    headings: list[str] | None
    heading_row: int | None

    def rows(self):
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            for number, cells in enumerate(reader, start=1):
                if number <= (self.heading_row or 0) or not any(cells):
                    continue
                yield number, cells

    def sample(self, n=5):
        out = []
        for _, cells in self.rows():
            out.append(cells)
            if len(out) >= n:
                break
        return out


def open_worksheet(path, *, has_headings=None, encoding=None, delimiter=None):
    with Path(path).open("rb") as handle:
        raw = handle.read(65536)
    if b"\0" in raw:
        raise WorksheetError("This file is not a worksheet.", "file")
    text, candidate = None, "cp1250"
    for cut in range(4):  # the head may end inside a UTF-8 character
        try:
            text, candidate = raw[:len(raw) - cut].decode("utf-8-sig"), "utf-8-sig"
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        text = raw.decode("cp1250", errors="replace")
    encoding = encoding or candidate
    first = text.splitlines()[0] if text else ""
    delimiter = delimiter or max(",;\t|", key=first.count)
    headings = next(csv.reader([first], delimiter=delimiter)) if has_headings is not False else None
    return Worksheet(Path(path), "csv", encoding, delimiter, headings, 1 if headings else None)
