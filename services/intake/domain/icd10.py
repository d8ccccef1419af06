"""The billable (leaf) ICD-10-CM codes, read from the code list the `simple_icd_10_cm` package
ships, without importing the package: its import parses the whole tabular XML into a tree
(seconds of every intake process's start). The code list is the same data; a leaf is a code no
other code extends (blocks such as M50-M54 and chapters are never codes to bill against).
`tests/unit/intake/test_icd10.py` checks the set against the package's own tree."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

PACKAGE = "simple_icd_10_cm"


def code_list_path() -> Path:
    """The package's list of every code (one a line, without dots), found without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    assert spec is not None and spec.submodule_search_locations, f"{PACKAGE} is not installed"
    found = sorted(Path(spec.submodule_search_locations[0], "data").glob("code-list-*.txt"))
    assert len(found) == 1, f"{PACKAGE} ships one code list, found {found}"
    return found[0]


@functools.cache
def billable_codes() -> frozenset[str]:
    """Every leaf code, in dotted form (M54.50, S13.4XXA, A33)."""
    lines = code_list_path().read_text(encoding="utf-8").splitlines()
    listed = {line.split(" ")[0] for line in lines if line.strip()}
    codes = sorted(c for c in listed if "-" not in c and not c.isdigit())  # no blocks, chapters
    leaves = (
        code
        for code, following in zip(codes, [*codes[1:], ""], strict=True)
        if not following.startswith(code)
    )
    return frozenset(dotted(code) for code in leaves)


def dotted(code: str) -> str:
    return code if len(code) <= 3 or code[3] == "." else f"{code[:3]}.{code[3:]}"


def billable(code: str) -> str | None:
    """`code` (stripped, any case, with or without its dot) in dotted form if billable, else None."""
    candidate = dotted(code.strip().upper())
    return candidate if candidate in billable_codes() else None
