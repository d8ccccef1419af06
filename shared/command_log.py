"""A record of every MongoDB command a process sends, for the benchmark (`make bench`).

Enabled only by the environment variable `MONGO_COMMAND_LOG=<directory>` (no effect when unset):
each process then appends one JSON line per command to `<directory>/<service>-<pid>.jsonl`:

    {"t": 1767225600.12, "service": "intake", "db": "bench_intake", "collection": "referrals",
     "command": "update", "n": 1, "shapes": [{"filter": {"_id": "?"}, "update": ["$pull", ...]}],
     "example": {...}}

`shapes` are the query shapes: the filter with every value replaced by "?" (operators and
`$exists`/`$type` arguments kept; a regular expression shown as `{"$regex": "^?"}` when it is
anchored and case-sensitive, the only kind an index bounds, else `{"$regex": "?"}`), with the
sort, one per statement. `example` (on the first
command of each shape in the process) is one statement's filter with its values (MongoDB
extended JSON), so `explain` can be run on real MongoDB later.
`"by_test": true` marks a command a test or the test kit sent itself (with a service's client,
to look at what it stored): the nearest caller outside pymongo is under `tests/` or `testkit/`.
Values may hold patient data: the log is for benchmark runs on test data only, never production.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from bson import json_util
from bson.regex import Regex
from pymongo import monitoring

ENV_VAR = "MONGO_COMMAND_LOG"
HIDDEN = "?"
ANCHORED = "^?"
KEPT_ARGUMENTS = ("$exists", "$type")
LOGICAL = ("$or", "$and", "$nor")

_STATEMENTS = {  # command -> (field holding the statements, field of each statement's filter)
    "update": ("updates", "q"),
    "delete": ("deletes", "q"),
}
_FILTER_FIELD = {
    "find": "filter",
    "count": "query",
    "distinct": "query",
    "findAndModify": "query",
}


def shape_of(value: Any) -> Any:
    """A filter with its values hidden: what an index must serve, whatever the values.

    `null` stays visible: equality to null cannot use a sparse index.
    """
    if isinstance(value, dict):
        if "$regex" in value:
            return _regex_shape(value["$regex"], value.get("$options", ""), value)
        return {key: _shape_item(key, item) for key, item in value.items()}
    if isinstance(value, (Regex, re.Pattern)):
        return _regex_shape(value, "", {})
    return None if value is None else HIDDEN


def _regex_shape(pattern: Any, options: str, rest: Mapping[str, Any]) -> dict[str, Any]:
    """`{"$regex": "^?"}` for an anchored, case-sensitive pattern (bounded), else `"?"`."""
    if isinstance(pattern, (re.Pattern, Regex)):
        pattern, insensitive = pattern.pattern, bool(pattern.flags & re.IGNORECASE)
    else:
        insensitive = False
    insensitive = insensitive or "i" in str(options)
    text = pattern.decode() if isinstance(pattern, bytes) else str(pattern)
    anchored = text.startswith("^") and not text.startswith(("^.", "^(", "^[")) and len(text) > 1
    shape = {key: HIDDEN for key in rest if key not in ("$regex", "$options")}
    return {**shape, "$regex": ANCHORED if anchored and not insensitive else HIDDEN}


def _shape_item(key: str, item: Any) -> Any:
    if key in LOGICAL and isinstance(item, list):
        return [shape_of(branch) for branch in item]
    if key in KEPT_ARGUMENTS:
        return item
    if key == "$regex":
        return _regex_shape(item, "", {})["$regex"]
    if isinstance(item, (Regex, re.Pattern)):
        return _regex_shape(item, "", {})
    if key in ("$elemMatch", "$not") or (isinstance(item, dict) and _is_operator_doc(item)):
        return shape_of(item)
    return shape_of(None) if item is None else HIDDEN


def _is_operator_doc(value: dict[str, Any]) -> bool:
    return bool(value) and all(str(key).startswith("$") for key in value)


def _aggregate_filter(command: Mapping[str, Any]) -> dict[str, Any] | None:
    pipeline = command.get("pipeline") or []
    first = pipeline[0] if pipeline else {}
    return first.get("$match") if isinstance(first, dict) else None


def describe(name: str, command: Mapping[str, Any]) -> dict[str, Any]:
    """The command's collection, statement count and query shapes (with one example filter)."""
    collection = command.get(name) if isinstance(command.get(name), str) else None
    filters: list[tuple[dict[str, Any], Any]] = []
    n = 1
    if name in _STATEMENTS:
        field, key = _STATEMENTS[name]
        statements = command.get(field) or []
        n = len(statements)
        filters = [(s.get(key) or {}, None) for s in statements]
    elif name in _FILTER_FIELD:
        filters = [(command.get(_FILTER_FIELD[name]) or {}, command.get("sort"))]
    elif name == "aggregate":
        filters = [(_aggregate_filter(command) or {}, None)]
    elif name == "insert":
        n = len(command.get("documents") or [])
    shapes = []
    for query, sort in filters:
        shape: dict[str, Any] = {"filter": shape_of(query)}
        if sort:
            shape["sort"] = list(dict(sort))
        shapes.append(shape)
    record: dict[str, Any] = {"collection": collection, "command": name, "n": n, "shapes": shapes}
    if filters:
        record["example"] = filters[0][0]  # raw: the log serialises the first of each shape
    return record


class CommandLog(monitoring.CommandListener):
    """Appends each started command to this process's JSON-lines file (reopened after a fork)."""

    def __init__(self, directory: str, service: str) -> None:
        self.directory, self.service = Path(directory), service
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._pid: int | None = None
        self._seen: set[str] = set()
        # Only a test process can send a command of its own (a service process started by a
        # test runs none of its code): the caller is looked at there, not in the services.
        self._tests_here = "pytest" in sys.modules

    def _out(self) -> IO[str]:
        if self._file is None or self._pid != os.getpid():
            self.directory.mkdir(parents=True, exist_ok=True)
            self._pid = os.getpid()
            path = self.directory / f"{self.service}-{self._pid}.jsonl"
            self._file = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
        return self._file

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        try:
            record = describe(event.command_name, event.command)
        except Exception as error:  # a record must never break the command itself
            record = {"command": event.command_name, "error": repr(error)}
        record.update(t=time.time(), service=self.service, db=event.database_name)
        if self._tests_here and _sent_by_a_test():
            record["by_test"] = True
        if "example" in record:
            key = json.dumps(
                [record["db"], record["collection"], record["command"], record["shapes"]]
            )
            if key in self._seen:
                del record["example"]
            else:
                self._seen.add(key)
                record["example"] = json.loads(json_util.dumps(record["example"]))
        line = json.dumps(record, default=str, separators=(",", ":"))
        with self._lock:
            self._out().write(line + "\n")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


_LIBRARIES = (f"{os.sep}pymongo{os.sep}", f"{os.sep}bson{os.sep}", "command_log.py")
_TEST_CODE = (f"{os.sep}tests{os.sep}", f"{os.sep}testkit{os.sep}")


def _sent_by_a_test() -> bool:
    """Whether the nearest caller outside pymongo (and this module) is a test's own code."""
    frame = sys._getframe(2)
    while frame is not None and any(part in frame.f_code.co_filename for part in _LIBRARIES):
        frame = frame.f_back  # type: ignore[assignment]
    return frame is not None and any(part in frame.f_code.co_filename for part in _TEST_CODE)


def from_environment(service: str) -> list[monitoring.CommandListener]:
    """`[CommandLog]` when `MONGO_COMMAND_LOG` names a directory, else nothing."""
    directory = os.environ.get(ENV_VAR)
    return [CommandLog(directory, service)] if directory else []
