"""`make bench`: run every speed script of the bench folder, each with its own main()."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    failed = 0
    for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        print(f"== bench.{module.name}", flush=True)
        failed += bool(importlib.import_module(f"bench.{module.name}").main())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
