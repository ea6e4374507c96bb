"""TEMPORARY stand-ins for transfer-read's readers/writers and transfer-map's headings/rows.

They implement only the plain cases of the contracts in /work/transfer-interfaces.md, so that the
import (branch transfer-import) can be tested before those branches are merged. `install()` puts
one in place only where the real module is missing. TODO(lead): once transfer-read and
transfer-map are merged, delete this package and its call in tests/conftest.py.
"""

import importlib
import sys

MODULES = ("readers", "writers", "headings", "rows")


def install() -> list[str]:
    installed = []
    for name in MODULES:
        real = f"shopadmin.transfer.{name}"
        try:
            importlib.import_module(real)
        except ModuleNotFoundError as error:
            if error.name != real:
                raise
            sys.modules[real] = importlib.import_module(f"tests.transfer_standins.{name}")
            installed.append(name)
    return installed
