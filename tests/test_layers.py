"""The package's shape: no import circles anywhere in ``crawler/``, and the layers import
only downwards (what each folder may import is the table below)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "crawler"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The crawler modules ``name`` imports, at any depth of its code (lazy imports too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            if target in known and target != name:
                yield target


def import_graph() -> dict[str, set[str]]:
    """Module -> the crawler modules it imports."""
    known = _modules()
    return {name: set(_imports(name, path, known)) for name, path in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_the_walk_finds_a_planted_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_no_module_of_the_package_is_in_an_import_circle() -> None:
    graph = import_graph()
    assert len(graph) > 50  # the walk saw the package
    assert circles(graph) == []


# What each folder may import besides itself (and the package root's NAME/__version__). The
# emulator shares no code with the crawler, so that it can disagree with the crawler's model.
ALLOWED = {
    "protocol": set(),
    "settings": {"protocol"},
    "http": {"protocol"},
    "crawl": {"protocol", "settings", "http"},
    "snapshot": {"protocol"},
    "downstream": {"protocol", "snapshot"},
    "emulator": set(),
}
TOP = {"run", "progress", "pipeline", "gc_policy"}  # the run's lifecycle: any layer but these
TOP_MAY_NOT = {"commands", "emulator", "downstream"}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_problems(graph: dict[str, set[str]]) -> list[str]:
    """Every import that goes up or sideways across the layers (pure)."""
    problems = []
    for module, deps in sorted(graph.items()):
        room = _room(module)
        for dep in sorted(deps):
            other = _room(dep)
            if other in ("", room):
                continue
            upward = room in ALLOWED and other not in ALLOWED[room]
            if upward or (room in TOP and other in TOP_MAY_NOT):
                problems.append(f"{module} imports {dep}")
    return problems


def test_a_planted_upward_import_is_caught() -> None:
    graph = {"crawler.protocol.ado": {"crawler.http.client"}, "crawler.http.client": set()}
    assert layer_problems(graph) == ["crawler.protocol.ado imports crawler.http.client"]


def test_the_layers_import_only_downwards() -> None:
    assert layer_problems(import_graph()) == []


def test_no_module_is_over_four_hundred_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE.parent)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


def test_the_readme_draws_every_folder_of_the_package() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    drawing = readme.split("## Development", 1)[1].split("```\ncrawler/\n", 1)[1].split("```")[0]
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    drawn = set(re.findall(r"\b(\w+)/", drawing))
    assert folders <= drawn
    assert set(ALLOWED) <= folders  # the layer table names real folders
