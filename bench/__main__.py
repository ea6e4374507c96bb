"""Run every benchmark module (or the ones named on the command line) in turn."""

import importlib
import pkgutil
import sys
import time
from pathlib import Path

import bench


def main(argv: list[str]) -> int:
    names = argv or sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__)
        if not info.name.startswith("_") and info.name != "common"
    )
    for name in names:
        print(f"\n=== bench {name}", flush=True)
        started = time.monotonic()
        importlib.import_module(f"bench.{name}").main()
        print(f"=== {name} took {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main(sys.argv[1:]))
