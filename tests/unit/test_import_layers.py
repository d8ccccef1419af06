"""The layers of the test code import downhill only: `tests` may import `testkit` and `tools`,
`tools` may import `testkit`, `testkit` imports neither; and no module of the three packages
imports itself back through others (read from the source with `ast`, nothing is imported)."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("testkit", "tools", "tests")
FORBIDDEN = {"testkit": ("tests", "tools"), "tools": ("tests",)}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def imported(name: str, path: Path) -> set[str]:
    """What of the three packages the module imports, anywhere in it: `from a import b` gives `a`
    and `a.b` (a name or a module); relative imports are resolved against the module's package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {item for item in found if item.split(".")[0] in PACKAGES} - {name}


@functools.cache
def graph() -> dict[str, set[str]]:
    return {name: imported(name, path) for name, path in modules().items()}


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One import cycle (a, b, ..., a), or None."""
    state: dict[str, str] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = "open", trail.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return [*trail[trail.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node], _ = "done", trail.pop()
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_kit_and_the_tools_never_import_what_stands_above_them():
    wrong = [
        f"{name} imports {target}"
        for name, targets in graph().items()
        for target in targets
        for banned in FORBIDDEN.get(name.split(".")[0], ())
        if target == banned or target.startswith(f"{banned}.")
    ]
    assert not wrong, wrong


def test_no_module_of_the_kit_the_tools_or_the_tests_imports_itself_back():
    edges = {name: targets & graph().keys() for name, targets in graph().items()}
    assert find_cycle(edges) is None


def test_the_check_reads_imports_and_finds_a_cycle():
    demo = graph()["tools.demo.demo"]
    assert {"testkit.staff", "testkit.smtp", "tools.demo.data"} <= demo
    assert graph()["testkit.fakes"] >= {"testkit.fakes.partner_webhook"}  # relative import
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
