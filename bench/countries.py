"""Country lists: the 249 ISO countries named and sorted by the language's collation, with the
store's countries first, as every customer form and list page asks for them.

Prints the cost of working the list out (collation keys for every name) beside the cached
answer the pages get, and beside Babel's plain accent-folded sort as the baseline, all per
language and measured in the same run.
"""

import statistics

from flask_babel import force_locale

from shopadmin.countries import _sorted_countries, country_choices, iso_codes
from shopadmin.text import fold

from .common import bench_app, timings


def main() -> None:
    app = bench_app("countries")
    with app.test_request_context():
        for language in ("de", "fr", "pl", "en"):
            with force_locale(language):
                from flask_babel import get_locale

                names = get_locale().territories

                def folded_sort(names=names):
                    return sorted(((c, names[c]) for c in iso_codes()),
                                  key=lambda item: fold(item[1]))

                def worked_out():
                    _sorted_countries.cache_clear()
                    return country_choices(("DE", "AT"))

                def cached():
                    return country_choices(("DE", "AT"))

                baseline = statistics.median(timings(folded_sort, repeat=21))
                fresh = statistics.median(timings(worked_out, repeat=21))
                again = statistics.median(timings(cached, repeat=201))
                print(f"{language}: worked out {fresh:.3f} ms, cached {again:.4f} ms "
                      f"(baseline, Babel names sorted by folded text: {baseline:.3f} ms)",
                      flush=True)
