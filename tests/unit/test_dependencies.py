"""Every dependency pyproject.toml declares is used, and constraints.txt pins each of them."""

import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def imported_modules() -> set[str]:
    sources = [*ROOT.joinpath("shopadmin").rglob("*.py"), *ROOT.joinpath("migrations").rglob(
        "*.py"), ROOT / "wsgi.py", ROOT / "gunicorn.conf.py"]
    pattern = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", re.M)
    return {name for path in sources for name in pattern.findall(path.read_text())}


def test_every_declared_dependency_is_imported_by_the_app():
    modules_of: dict[str, set[str]] = {}
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            modules_of.setdefault(canonicalize_name(distribution), set()).add(module)
    imported = imported_modules()
    unused = [requirement for requirement in PROJECT["dependencies"]
              if not modules_of.get(canonicalize_name(Requirement(requirement).name), set())
              & imported]
    assert unused == []


def test_constraints_pin_every_declared_dependency():
    pinned = {canonicalize_name(line.split("==")[0]) for line in
              (ROOT / "constraints.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    declared = [Requirement(r) for r in PROJECT["dependencies"]]
    declared += [Requirement(r) for extra in PROJECT["optional-dependencies"].values()
                 for r in extra]
    assert {canonicalize_name(r.name) for r in declared} - pinned == set()
