"""python -m bench: run every bench/*.py module's main()."""

import importlib
import pkgutil
from pathlib import Path

for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
    if not module.name.startswith("_"):
        importlib.import_module(f"bench.{module.name}").main()
