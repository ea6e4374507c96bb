"""The file's match keys kept on disk: the first row of each key, across batches."""

from shopadmin.imports.seen import SeenKeys


def test_first_rows_across_and_within_batches():
    seen = SeenKeys()
    try:
        assert seen.first_rows([("email", "a@x.pl", 2), ("email", "b@x.pl", 3)]) == {}
        again = seen.first_rows([("email", "c@x.pl", 4), ("email", "a@x.pl", 5),
                                 ("customer_number", "a@x.pl", 5), ("email", "c@x.pl", 6)])
        assert again == {("email", "a@x.pl"): 2, ("email", "c@x.pl"): 4}
        # Planning a batch again (after a concurrent change) finds no row twice.
        assert seen.first_rows([("email", "c@x.pl", 4)]) == {}
    finally:
        seen.close()


def test_first_rows_the_same_after_the_keys_move_to_disk():
    """A file with more keys than the dict holds (DICT_KEYS; here 5) goes on with them on
    disk, and answers as before: random batches of repeated keys, against the first row of
    each key worked out by hand."""
    import random

    chooser = random.Random(15)
    kept, small = SeenKeys(), SeenKeys(dict_keys=5)
    first: dict[tuple[str, str], int] = {}
    row = 1
    try:
        for _batch in range(30):
            batch = []
            for _ in range(chooser.randint(1, 8)):
                row += 1
                for kind in ("email", "customer_number"):
                    if chooser.random() < 0.8:
                        batch.append((kind, f"k{chooser.randint(1, 40)}", row))
            expected = {}
            for kind, key, at in batch:
                known = first.setdefault((kind, key), at)
                if known != at:
                    expected[(kind, key)] = known
            assert kept.first_rows(batch) == expected
            assert small.first_rows(batch) == expected
        assert kept.held is not None and small.held is None  # (the small one moved to disk)
    finally:
        kept.close()
        small.close()
