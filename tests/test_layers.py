"""The shape stays: imports inside ``azera/`` only point down the layers (README, "Architecture")."""

from __future__ import annotations

import ast
from pathlib import Path

from azera.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "azera"
# Lower numbers are lower layers. A module may import its own layer and the ones below, never above.
LAYERS = {
    "config": 0,
    "errors": 0,
    "logs": 0,
    "db": 1,
    "llm": 1,
    "memory": 2,
    "voice": 2,
    "images": 2,
    "services": 3,
    "doctor": 3,
    "mind": 4,
    "runtime": 5,
    "conversation": 6,
    "state": 7,
    "api": 7,
    "components": 8,
    "pages": 8,
    "azera": 9,  # azera/azera.py: the app's wiring
    "cli": 9,
    "bench": 9,
    "__main__": 9,
    "caches": 9,
}


def layer_of(module: str) -> int:
    """The layer of ``azera.x.y`` (by its first part after ``azera``; -1 for ``azera`` itself)."""
    parts = module.split(".")
    return LAYERS.get(parts[1], -1) if parts[0] == "azera" and len(parts) > 1 else -1


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``azera`` import in a file, including those inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            found += [(node.lineno, name) for name in names if name.split(".")[0] == "azera"]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "azera"]
    return found


def upward_imports(root: Path = PACKAGE) -> list[str]:
    """Every import that points up a layer, as 'file:line imports module'."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = "azera." + ".".join(path.relative_to(root).with_suffix("").parts)
        own = layer_of(module)
        for line, target in sorted({(line, ".".join(t.split(".")[:2])) for line, t in imports(path)}):
            if layer_of(target) > own:
                problems.append(f"{path.relative_to(root.parent)}:{line} imports {target}")
    return problems


def test_every_package_has_a_layer() -> None:
    tops = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or p.is_dir()}
    tops -= {"__init__", "__pycache__"}
    assert tops <= set(LAYERS), f"give these a layer in LAYERS: {sorted(tops - set(LAYERS))}"


def test_imports_only_point_down() -> None:
    assert upward_imports() == []


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    root = tmp_path / "azera"
    (root / "memory").mkdir(parents=True)
    (root / "memory" / "bad.py").write_text("def f():\n    from azera.state.chats import ChatState\n")
    (root / "state").mkdir()
    (root / "state" / "good.py").write_text("from azera.memory.service import MemoryService\n")
    problems = upward_imports(root)
    assert len(problems) == 1 and problems[0].endswith("imports azera.state")
