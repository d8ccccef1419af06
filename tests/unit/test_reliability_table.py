"""docs/reliability.md names, for every property of the design brief's reliability.md (1-18),
the tests that prove it: each property has its row, and every test named there exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "reliability.md"
PROPERTIES = range(1, 19)
NODE_ID = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
ROW = re.compile(r"^\| (\d+) \| [^|]+ \| (.+) \|$")
ATTACK_ROW = re.compile(r"^\| ([a-z][^|]+) \| (`tests/.+) \|$")


def rows() -> dict[int, str]:
    found = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if matched := ROW.match(line):
            found[int(matched[1])] = matched[2]
    return found


def defined_tests(path: Path) -> set[str]:
    """The test functions of a module: at its top level or in its classes."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test_"
        ):
            names.add(node.name)
    return names


def test_every_property_has_a_row_naming_a_test():
    table = rows()
    assert sorted(table) == list(PROPERTIES)
    for number, cell in table.items():
        assert NODE_ID.search(cell) and "TODO" not in cell, (number, cell)


def attack_rows() -> dict[str, str]:
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    return {m[1]: m[2] for line in lines if (m := ATTACK_ROW.match(line))}


def test_every_attack_of_the_issue_has_a_row():
    assert set(attack_rows()) >= {
        "operator injection",
        "template injection and cost",
        "markup in echoed form values",
        "a revoked key in planning and notifications",
        "a 5 MB AMQP message",
    }


def test_every_test_the_table_names_exists():
    missing = []
    for number, cell in [*rows().items(), *attack_rows().items()]:
        for path, name in NODE_ID.findall(cell):
            module = ROOT / path
            if not module.is_file() or name not in defined_tests(module):
                missing.append((number, f"{path}::{name}"))
    assert not missing, missing
