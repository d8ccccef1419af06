"""The docs keep up with the code."""

from pathlib import Path

from shared.config import every_env_var

ROOT = Path(__file__).resolve().parents[2]


def test_every_configuration_variable_is_documented_for_ops():
    ops = (ROOT / "docs" / "ops.md").read_text()
    missing = [name for name in every_env_var() if f"`{name}`" not in ops]
    assert not missing, f"docs/ops.md does not document: {missing}"


def test_the_readme_names_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
