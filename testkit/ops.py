"""The intake ops CLI, run as ops run it: `python -m services.intake.cli ...` with the intake
service's environment, answering the JSON object the command printed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from testkit.errors import StepFailed
from testkit.processes import ROOT


class OpsCli:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def run(self, *args: str) -> tuple[int, dict[str, Any] | str]:
        """(0, the printed JSON object), or (the exit code, what the command said on failing)."""
        result = subprocess.run(
            [sys.executable, "-m", "services.intake.cli", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,  # 2 shared cores: a process starts slowly under load
        )
        if result.returncode != 0:
            return result.returncode, (result.stderr or result.stdout).strip()
        return 0, printed_json(result.stdout)

    def __call__(self, *args: str) -> dict[str, Any]:
        code, output = self.run(*args)
        if code != 0 or not isinstance(output, dict):
            raise StepFailed(f"intake ops CLI {' '.join(args[:1])} failed: {output}")
        return output


def printed_json(text: str) -> dict[str, Any]:
    """The JSON object a CLI command printed (from the first `{`: anything before is not it)."""
    return json.loads(text[text.index("{") :])
