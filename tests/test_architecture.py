"""One direction of flow: a module imports only the foundation and the stages before it."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "leaflets"
# Stage order (../shared/STYLE.md); foundation modules may be imported by any stage. `parse` is
# the input boundary every file passes, the language table and the models' checks included.
FOUNDATION = {"errors", "parse", "models", "resources", "fonts", "codes", "__init__"}
ORDER = ["load", "rules", "i18n", "readback", "compose", "layout", "pdf", "render", "write", "pipeline",
         "record", "batch", "printing", "site", "counter", "qa", "cli"]


def _stage(module: str) -> str:
    return module.split(".")[0]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    package = path.relative_to(SRC).parts[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - node.level + 1])
            target = ".".join([*base, node.module] if node.module else base)
            target = target or "__init__"    # `from . import __version__`
            found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("leaflets.") for a in node.names
                         if a.name.startswith("leaflets"))
    return found


def test_stages_import_only_earlier_stages() -> None:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        me = _stage(".".join(path.relative_to(SRC).with_suffix("").parts))
        for target in _imports(path):
            other = _stage(target)
            if other in FOUNDATION or other == me:
                continue
            if me in FOUNDATION or ORDER.index(other) > ORDER.index(me):
                bad.append(f"{path.relative_to(SRC)} imports {target}")
    assert bad == []


def test_rules_do_no_io_and_read_no_clock() -> None:
    forbidden = ("open(", ".read_text(", ".write_", "date.today(", "datetime.now(", "time.time(")
    for path in (SRC / "rules").glob("*.py"):
        text = path.read_text()
        assert not [f for f in forbidden if f in text], path.name
