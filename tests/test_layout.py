"""The house a newcomer reads: the README's map names every module, docs/architecture.md names only
paths that exist, and imports run down the layers (models ← handlers ← bot), never back up.

These read the tree as text (ast for imports), so a module added without its line in the map, or a
renamed one left behind in the docs, fails here rather than misleading the next reader.
"""

from __future__ import annotations

import ast
import graphlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "bot/cli", "bot/slack", "bot/slack/listeners", "handlers", "handlers/classify", "models", "config")
LAYER = {"models": 0, "config": 0, "templates": 0, "handlers": 1, "bot": 2}


def _readme_map() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## How it is built")
    return text[start : text.index("The rules that always hold", start)]


def _modules() -> list[Path]:
    return [path for package in PACKAGES for path in sorted((ROOT / package).glob("*.py")) if path.stem != "__init__"]


def test_readme_map_names_every_module():
    words = set(re.findall(r"\w+", _readme_map()))
    # handlers/classify/ is named as one package in the map: its own docstring is its map
    missing = [str(p.relative_to(ROOT)) for p in _modules()
               if p.stem not in words and p.parent.name != "classify"]
    assert missing == [], f"README 'How it is built' does not name: {missing}"


def test_architecture_doc_names_only_paths_that_exist():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:bot|handlers|models|config|templates|migrations|bench)/[\w/]*\.(?:py|yaml))", text))
    assert named, "docs/architecture.md names no module path"
    assert sorted(p for p in named if not (ROOT / p).exists()) == []


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from handlers import acks`
    return names


def test_imports_run_down_the_layers():
    upward = []
    for path in _modules():
        own = LAYER[path.relative_to(ROOT).parts[0]]
        for name in _imports(path):
            top = name.split(".")[0]
            if top in LAYER and LAYER[top] > own:
                upward.append(f"{path.relative_to(ROOT)} imports {name}")
    assert upward == []


def test_no_import_circles():
    """Counting the imports inside functions too: a circle there is still a circle a reader must untangle."""
    name_of = {p: ".".join(p.relative_to(ROOT).with_suffix("").parts) for p in _modules()}
    known = set(name_of.values())
    graph = {name: {n for n in _imports(p) if n in known and n != name} for p, name in name_of.items()}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise AssertionError(f"import circle: {' -> '.join(exc.args[1])}") from None


def test_no_wiring_by_name():
    """Features plug in through bot/features.py and bot/cli's FEATURES, not by importing names built at run time."""
    found = [str(p.relative_to(ROOT)) for p in _modules() if re.search(r"__import__\(|importlib\.import_module",
                                                                      p.read_text(encoding="utf-8"))]
    assert found == []
