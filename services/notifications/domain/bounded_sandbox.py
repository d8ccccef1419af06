"""The Jinja environment templates render in: the immutable sandbox, with a bounded cost.

A clinic's override is written by the clinic, so it must neither reach past its context nor
make a render expensive. The sandbox already refuses unsafe attributes (``__class__``,
``_private``) and mutating methods; on top of it:

- Shape (checked when an override is parsed, so both at save time and at render time):
  an override may not include, import or extend another template (that would reach other
  clinics' overrides), define macros or call blocks (recursion), loop recursively, or nest
  one loop inside another (cost multiplies).
- Size: every text an expression makes (``*``, ``+``, ``~``, a call, a filter) is at most
  `MAX_TEXT` characters, every number an operation makes is at most `MAX_NUMBER`, and a
  call's or filter's numeric arguments (widths, counts) at most `MAX_ARGUMENT`.
- Time: a render runs within `RENDER_BUDGET_S`, checked at every operation above and at
  every piece of output; the whole output is at most `MAX_OUTPUT` characters.

Why in-process rather than a child process with a time and memory limit: the worker renders
every message, from sender threads; forking per render (from a threaded process) or keeping
a pool of renderers costs more and fails in more ways than bounding the few operations that
can grow a value, which this module does (every growth goes through one of the hooks).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEXT = 100_000
MAX_OUTPUT = 200_000
MAX_NUMBER = 10**12
MAX_ARGUMENT = 10_000
RENDER_BUDGET_S = 2.0

FORBIDDEN_TAGS: Mapping[type[nodes.Node], str] = {
    nodes.Include: "include other templates",
    nodes.Import: "import other templates",
    nodes.FromImport: "import other templates",
    nodes.Extends: "extend other templates",
    nodes.Macro: "define macros",
    nodes.CallBlock: "use call blocks",
}


class TemplateTooCostly(SecurityError):
    """An override is shaped or behaves so that rendering it could cost too much."""


def check_shape(template: nodes.Template) -> None:
    """Raise `TemplateTooCostly` naming the first construct an override may not use."""
    for kind, what in FORBIDDEN_TAGS.items():
        if template.find(kind) is not None:
            raise TemplateTooCostly(f"an override may not {what}")
    for loop in template.find_all(nodes.For):
        if loop.recursive:
            raise TemplateTooCostly("an override may not loop recursively")
        if any(True for _ in _loops_inside(loop)):
            raise TemplateTooCostly("an override may not nest one loop inside another")


def _loops_inside(loop: nodes.For) -> Iterable[nodes.For]:
    for child in (*loop.body, *loop.else_):
        if isinstance(child, nodes.For):
            yield child
        yield from child.find_all(nodes.For)


class _BoundedCodeGenerator(CodeGenerator):
    """Routes every ``~`` concatenation through `BoundedSandbox.bounded`."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset(["*", "**", "+"])

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._deadline = threading.local()

    # --- the budget of one render ------------------------------------------------------

    def render_bounded(self, template: Any, context: Mapping[str, Any]) -> str:
        """Render within the time and output budget (raises `TemplateTooCostly`)."""
        self._deadline.at = time.monotonic() + RENDER_BUDGET_S
        try:
            pieces, size = [], 0
            for piece in template.generate(context):
                size += len(piece)
                if size > MAX_OUTPUT:
                    raise TemplateTooCostly(f"the message is longer than {MAX_OUTPUT} characters")
                self._in_time()
                pieces.append(piece)
            return "".join(pieces)
        finally:
            self._deadline.at = None

    def _in_time(self) -> None:
        at = getattr(self._deadline, "at", None)
        if at is not None and time.monotonic() > at:
            raise TemplateTooCostly(f"rendering took longer than {RENDER_BUDGET_S:g} s")

    def bounded(self, value: Any) -> Any:
        """Check a value an operation made: its size, and the time so far."""
        self._in_time()
        if isinstance(value, str | bytes | list | tuple) and len(value) > MAX_TEXT:
            raise TemplateTooCostly(f"a value longer than {MAX_TEXT} characters or items")
        if _number(value) and abs(value) > MAX_NUMBER:
            raise TemplateTooCostly(f"a number larger than {MAX_NUMBER}")
        return value

    # --- the hooks: operators, calls, filters --------------------------------------------

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        for side in (left, right):
            self.bounded(side)
        if operator == "*":
            _repeat_size(left, right)
            _repeat_size(right, left)
        if operator == "**" and _number(right) and abs(right) > 64:
            raise TemplateTooCostly("an exponent larger than 64")
        return self.bounded(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _arguments(args, kwargs)
        __self._in_time()
        return __self.bounded(super().call(__context, __obj, *args, **kwargs))

    def bounded_filters(self, filters: Mapping[str, Callable[..., Any]]) -> None:
        """Every filter, Jinja's own and ours, with its arguments and result checked."""
        for name, function in list(filters.items()):
            self.filters[name] = self._bounded_filter(function)

    def _bounded_filter(self, function: Callable[..., Any]) -> Callable[..., Any]:
        passes_context = hasattr(function, "jinja_pass_arg")

        @functools.wraps(function)
        def bounded_filter(*args: Any, **kwargs: Any) -> Any:
            skip = 2 if passes_context else 1  # (the context and) the value filtered
            _arguments(args[skip:], kwargs)
            self._in_time()
            return self.bounded(function(*args, **kwargs))

        return bounded_filter

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        template = super()._parse(source, name, filename)
        if filename is None:  # an override (the built-in files have a file name)
            check_shape(template)
        return template


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _repeat_size(sequence: Any, times: Any) -> None:
    sized = isinstance(sequence, str | bytes | list | tuple) and isinstance(times, int)
    if sized and len(sequence) * times > MAX_TEXT:
        raise TemplateTooCostly(f"a value longer than {MAX_TEXT} characters or items")


def _arguments(args: Iterable[Any], kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if _number(value) and abs(value) > MAX_ARGUMENT:
            raise TemplateTooCostly(f"an argument larger than {MAX_ARGUMENT}")
