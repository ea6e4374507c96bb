"""The match keys seen so far in a file, and the row that had each first.

Keys are stored as 64-bit hashes of (kind, key); they live no longer than the process that
hashes, so Python's own hash serves. The first DICT_KEYS of them are held in a dict; a file
with more moves them into a private temporary SQLite database on disk (SQLite deletes it on
close), where the rest go too: a million e-mail addresses and customer numbers would hold some
200 MB in a dict, and on disk memory stays flat whatever the size of the file.
"""

import sqlite3
from itertools import chain

from ..batching import batched

CACHE_KB = 65_536
INSERT_ROWS = 250  # (key, row) pairs of one INSERT: 500 parameters
# Keys held in a dict before they move to disk (some 25 MB): a file of up to 125,000 rows
# with an e-mail address and a customer number each. (200,000 keys of 100,000 rows: 0.20 s
# of CPU on disk, 0.05 s in the dict.)
DICT_KEYS = 250_000


class SeenKeys:
    def __init__(self, dict_keys: int = DICT_KEYS):
        self.held: dict[int, int] | None = {}  # None: the keys are on disk
        self.dict_keys = dict_keys
        self.db: sqlite3.Connection | None = None

    def first_rows(self, keys: list[tuple[str, str, int]]) -> dict[tuple[str, str], int]:
        """Record (kind, key, row) in file order; returns, for every key that an earlier row
        already had, that earlier row. A row's own key is not a duplicate of itself."""
        hashes = [hash((kind, key)) for kind, key, _ in keys]
        rows = [row for _, _, row in keys]
        # (reversed: of the rows that have a key, the first is kept)
        first = dict(zip(reversed(hashes), reversed(rows), strict=True))
        earlier = (self._held_first(first) if self.held is not None
                   else self._stored_first(first))
        if earlier is None and len(first) == len(keys):
            return {}  # every key new, and none twice in these rows: the usual batch
        earlier = earlier or {}
        result = {}
        for hashed, (kind, key, row) in zip(hashes, keys, strict=True):
            known = earlier.get(hashed, first[hashed])
            if known != row:
                result[(kind, key)] = known
        return result

    def _held_first(self, first: dict[int, int]) -> dict[int, int] | None:
        """Record the batch's first rows in the dict; the earlier rows of the keys it had
        already (None: it had none)."""
        held = self.held
        assert held is not None
        known = first.keys() & held.keys()
        if known:
            earlier = {hashed: held[hashed] for hashed in known}
            held.update((hashed, row) for hashed, row in first.items() if hashed not in known)
        else:
            earlier = None
            held.update(first)
        if len(held) > self.dict_keys:
            self._to_disk()
        return earlier

    def _stored_first(self, first: dict[int, int]) -> dict[int, int] | None:
        """Record the batch's first rows on disk; the earlier rows of the keys it had already
        (None: it had none)."""
        db = self._database()
        before = db.total_changes
        self._insert(list(first.items()))
        if db.total_changes - before == len(first):
            return None
        earlier: dict[int, int] = {}
        cursor = db.cursor()
        for chunk in batched(list(first), 500):
            earlier.update(cursor.execute(
                f"SELECT key, row FROM seen WHERE key IN ({','.join('?' * len(chunk))})",
                chunk))
        return earlier

    def _to_disk(self) -> None:
        held, self.held = self.held, None
        self._insert(list((held or {}).items()))

    def _database(self) -> sqlite3.Connection:
        if self.db is None:
            db = self.db = sqlite3.connect("")  # "": a temporary database on disk
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            # A 64 MB page cache instead of 2 MB: the keys come in random order, and from
            # some 100,000 rows on the default cache thrashes (200,000 rows: 1.27 -> 0.94 s).
            db.execute(f"PRAGMA cache_size=-{CACHE_KB}")
            db.execute("CREATE TABLE seen (key INTEGER PRIMARY KEY, row INTEGER) WITHOUT ROWID")
        return self.db

    def _insert(self, pairs: list[tuple[int, int]]) -> None:
        """INSERT OR IGNORE the (key, row) pairs, INSERT_ROWS to a statement (a third of the
        time of one executemany)."""
        db = self._database()
        many = "INSERT OR IGNORE INTO seen VALUES " + ",".join(["(?, ?)"] * INSERT_ROWS)
        whole = len(pairs) - len(pairs) % INSERT_ROWS
        for start in range(0, whole, INSERT_ROWS):
            db.execute(many, list(chain.from_iterable(pairs[start:start + INSERT_ROWS])))
        db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", pairs[whole:])

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
