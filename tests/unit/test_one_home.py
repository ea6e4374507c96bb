"""Every name is imported from the module that defines it: a module that only imports a name
is not a second address for it (the re-exports left by moves went; none comes back)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shopadmin"
# Modules whose purpose is to be the address of names defined elsewhere.
HOMES_BY_DESIGN = {
    "shopadmin._huey",  # Huey's names, imported once without psycopg
}
# Imports in files another branch is rewriting now; they go when it is merged.


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def top_level_names(path: Path) -> tuple[set[str], set[str]]:
    """The names a module defines, and the names it only imports (at module level)."""
    defined: set[str] = set()
    imported: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:  # if/try blocks: whatever they bind counts as defined
            for inner in ast.walk(node):
                if isinstance(inner, ast.FunctionDef | ast.ClassDef):
                    defined.add(inner.name)
                elif isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                    defined.add(inner.id)
    return defined, imported - defined


def imported_from(module: str, is_package: bool, node: ast.ImportFrom) -> str | None:
    if node.level == 0:
        return node.module
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


NAMES = {module: top_level_names(path) for module, path in MODULES.items()}


def second_addresses_in(source: str, where: str, module: str, is_package: bool) -> list[str]:
    """The imports in `source` (the file `where`, module `module`) of a name from a module of
    ours that only imports it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        origin = imported_from(module, is_package, node)
        if origin not in NAMES or origin in HOMES_BY_DESIGN:
            continue
        for alias in node.names:
            if alias.name in NAMES[origin][1] and f"{origin}.{alias.name}" not in MODULES:
                found.append(f"{where}:{node.lineno}: {alias.name} from {origin}")
    return found


def test_names_are_imported_from_their_own_module():
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"),
             *(ROOT / "bench").glob("*.py")]
    found = []
    for path in files:
        found += second_addresses_in(path.read_text(), str(path.relative_to(ROOT)),
                                     module_name(path), path.name == "__init__.py")
    assert found == []


def test_the_check_sees_a_second_address():
    """The check itself: errors.py imports DomainError from domain.py for its own use, so an
    import of DomainError from errors.py is found, relative or absolute."""
    source = "from ..errors import DomainError\nfrom shopadmin.errors import apply_to_form\n"
    assert second_addresses_in(source, "probe.py", "shopadmin.customers.probe", False) == [
        "probe.py:1: DomainError from shopadmin.errors"]
    source = "from .choices import Gender\nfrom .models import CustomerType\n"
    assert second_addresses_in(source, "probe.py", "shopadmin.customers", True) == [
        "probe.py:2: CustomerType from shopadmin.customers.models"]
