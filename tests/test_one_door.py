"""The store is the one door to personal data: the API, the pages, the mail and the CLI call
its operations, and no module outside ``pledge/store`` reaches a table or the database engine
itself (SQLAlchemy, the table definitions of ``pledge.store.schema``, or a vault's engine)."""

from __future__ import annotations

import ast
from pathlib import Path

import pledge

PACKAGE = Path(pledge.__file__).parent
FORBIDDEN = ("sqlalchemy", "pledge.store.schema")


def _reaches(path: Path) -> set[str]:
    """What the module imports, and ``.engine`` where it takes an engine from an object."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr == "engine":
            found.add(f".engine (line {node.lineno})")
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_module_outside_the_store_touches_tables_or_the_engine() -> None:
    store = PACKAGE / "store"
    breaches = {
        f"{path.relative_to(PACKAGE.parent)}: {name}"
        for path in PACKAGE.rglob("*.py")
        if store not in path.parents
        for name in _reaches(path)
        if name.startswith(".engine")
        or any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert sorted(breaches) == []
