"""Formats: what a list page pays for its dates and its country list.

1. A page of 50 customers shows 50 moments: shopadmin.formats.format_moment (the one style, on
   the store's clock) beside Flask-Babel's format_datetime('short') as the baseline.
2. Country lists: the 249 ISO countries named and sorted by the language's collation with the
   store's countries first, as every customer form and list asks for them; worked out (collation
   keys for every name) and cached, beside Babel's names sorted by folded text as the baseline.
All measured in the same run.
"""

import statistics
from datetime import UTC, datetime, timedelta

from flask_babel import force_locale, format_datetime, get_locale

from shopadmin.countries import _sorted_countries, country_choices, iso_codes
from shopadmin.formats import format_moment
from shopadmin.text import fold

from .common import bench_app, timings

MOMENTS = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=997 * i) for i in range(50)]


def main() -> None:
    app = bench_app("formats")
    with app.test_request_context():
        for language in ("de", "fr", "pl", "en"):
            with force_locale(language):
                names = get_locale().territories

                def ours():
                    return [format_moment(moment) for moment in MOMENTS]

                def flask_babel():
                    return [format_datetime(moment, "short") for moment in MOMENTS]

                def folded_sort(names=names):
                    return sorted(((c, names[c]) for c in iso_codes()),
                                  key=lambda item: fold(item[1]))

                def worked_out():
                    _sorted_countries.cache_clear()
                    return country_choices(("DE", "AT"))

                def cached():
                    return country_choices(("DE", "AT"))

                moments = statistics.median(timings(ours, repeat=21))
                moments_base = statistics.median(timings(flask_babel, repeat=21))
                baseline = statistics.median(timings(folded_sort, repeat=21))
                fresh = statistics.median(timings(worked_out, repeat=21))
                again = statistics.median(timings(cached, repeat=201))
                print(f"{language}: 50 moments {moments:.2f} ms (Flask-Babel's short style: "
                      f"{moments_base:.2f} ms); country list worked out {fresh:.3f} ms, "
                      f"cached {again:.4f} ms (Babel's names sorted by folded text: "
                      f"{baseline:.3f} ms)", flush=True)
