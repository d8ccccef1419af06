"""The billable codes read from the code list are the leaves of `simple_icd_10_cm`'s own tree
(the package parses its tabular XML: seconds, paid here once rather than by every process)."""

from __future__ import annotations

from services.intake.domain import icd10


def test_the_billable_codes_are_the_leaves_of_the_packages_tree_except_its_blocks():
    from simple_icd_10_cm import simple_icd_10_cm as package

    leaves = {name for name, node in package._code_to_node.items() if not node.children}
    # the package's tree counts a dozen blocks (a range such as M40-M54) as leaves: never a code
    assert icd10.billable_codes() == {name for name in leaves if "-" not in name}
    assert {name for name in leaves if "-" in name} <= {
        name for name in package._code_to_node if package.is_block(name)
    }


def test_a_code_is_found_in_any_case_with_or_without_its_dot_and_blocks_are_not_codes():
    assert icd10.billable(" s134xxa ") == "S13.4XXA"
    assert icd10.billable("A33") == "A33"
    assert icd10.billable("M40-M54") is None  # one of the blocks the package's tree calls a leaf
    assert icd10.billable("M54.5") is None
