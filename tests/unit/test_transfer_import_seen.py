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
