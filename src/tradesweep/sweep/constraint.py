"""Constraint expressions over parameter names: ``"slow >= 2 * fast"``.

Parsed with :mod:`ast` and checked against a small grammar (no attribute access, no calls but
abs/min/max, no names but parameters), then evaluated vectorised with numpy over many
combinations at once. The rules are in ``docs/sweeps.md`` ("Constraints").
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np

from tradesweep.errors import ParameterError, close_matches

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {  # name -> (min args, vectorised form)
    "abs": (1, np.abs),
    "min": (2, lambda *xs: np.minimum.reduce(np.broadcast_arrays(*xs))),
    "max": (2, lambda *xs: np.maximum.reduce(np.broadcast_arrays(*xs))),
}
CONSTRAINT_GRAMMAR = (
    "a constraint may use parameter names, numbers, + - * / // % **, comparisons "
    "(< <= > >= == !=), and/or/not, parentheses and abs/min/max"
)


class Constraint:
    """A boolean expression over parameter names, parsed with :mod:`ast` and evaluated
    vectorised with numpy in float64, with Python's meaning (chained comparisons, and/or/not on
    truth values). Nothing outside :data:`CONSTRAINT_GRAMMAR` is accepted."""

    def __init__(self, text: str, names: Sequence[str]) -> None:
        self.text = text
        self._names = tuple(names)
        self.names_used: set[str] = set()
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise self._error(f"is not a valid expression ({exc.msg})") from None
        self._tree = tree.body
        if not self._validate(self._tree):
            raise self._error("must be a comparison such as 'fast < slow'")

    def __repr__(self) -> str:
        return repr(self.text)

    def _error(self, problem: str) -> ParameterError:
        return ParameterError(
            f"constraint {self.text!r} {problem}", fix=CONSTRAINT_GRAMMAR, constraint=self.text
        )

    def _token(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text.strip(), node) or type(node).__name__

    def _validate(self, node: ast.AST) -> bool:
        """Refuse anything outside the grammar; return whether ``node`` is boolean."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise self._error(f"uses {self._token(node)!r}; only numbers are allowed")
            return False
        if isinstance(node, ast.Name):
            if node.id not in self._names:
                close = close_matches(node.id, self._names)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise self._error(
                    f"uses {node.id!r}, which is not a parameter{hint}; "
                    f"parameters: {', '.join(self._names)}"
                )
            self.names_used.add(node.id)
            return False
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            self._validate(node.left)
            self._validate(node.right)
            return False
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            self._validate(node.operand)
            return isinstance(node.op, ast.Not)
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self._validate(value)
            return True
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            for value in (node.left, *node.comparators):
                self._validate(value)
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and not node.keywords
            and not any(isinstance(a, ast.Starred) for a in node.args)
        ):
            least = _FUNCTIONS[node.func.id][0]
            if not least <= len(node.args) <= (1 if least == 1 else len(node.args)):
                raise self._error(f"calls {self._token(node)!r} with the wrong number of arguments")
            for arg in node.args:
                self._validate(arg)
            return False
        if isinstance(node, ast.Call):
            raise self._error(f"calls {self._token(node.func)!r}, which is not allowed")
        raise self._error(f"uses {self._token(node)!r}, which is not allowed")

    def evaluate(self, columns: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """The expression over ``n`` combinations; ``columns`` holds the names it uses. A
        combination where Python would fail (a division or modulo by zero, or an overflow, in a
        part that and/or do not skip) is not valid."""
        with np.errstate(all="ignore"):
            value, defined = self._eval(self._tree, columns)
        return np.array(np.broadcast_to(_truth(value) & defined, (n,)), dtype=np.bool_)

    def _eval(self, node: ast.AST, columns: Mapping[str, np.ndarray]) -> tuple[Any, Any]:
        """``(value, defined)``: float64 or bool values, and where they could be computed."""
        if isinstance(node, ast.Constant):
            return np.float64(cast(float, node.value)), np.True_
        if isinstance(node, ast.Name):
            return np.asarray(columns[node.id], dtype=np.float64), np.True_
        if isinstance(node, ast.BinOp):
            (left, ok_left), (right, ok_right) = (
                self._number(node.left, columns),
                self._number(node.right, columns),
            )
            value = _BINARY[type(node.op)](left, right)
            return value, ok_left & ok_right & np.isfinite(value)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                value, defined = self._eval(node.operand, columns)
                return np.logical_not(_truth(value)), defined
            value, defined = self._number(node.operand, columns)
            return (-value if isinstance(node.op, ast.USub) else value), defined
        if isinstance(node, ast.BoolOp):
            # Python skips the right side once the left decides: mirror that for definedness.
            is_and = isinstance(node.op, ast.And)
            value, defined = self._eval(node.values[0], columns)
            value = _truth(value)
            for operand in node.values[1:]:
                right, ok_right = self._eval(operand, columns)
                decided = ~value if is_and else value
                defined = defined & (decided | ok_right)
                value = (value & _truth(right)) if is_and else (value | _truth(right))
            return value, defined
        if isinstance(node, ast.Compare):
            out: Any = np.True_
            left, defined = self._number(node.left, columns)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right, ok_right = self._number(comparator, columns)
                defined = defined & (~out | ok_right)  # a chain stops at its first False
                out = out & _COMPARE[type(op)](left, right)
                left = right
            return out, defined
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        args = [self._number(a, columns) for a in node.args]
        all_defined: Any = np.True_
        for _, ok in args:
            all_defined = all_defined & ok
        return _FUNCTIONS[node.func.id][1](*(v for v, _ in args)), all_defined

    def _number(self, node: ast.AST, columns: Mapping[str, np.ndarray]) -> tuple[Any, Any]:
        value, defined = self._eval(node, columns)
        return np.asarray(value, dtype=np.float64), defined


def _truth(x: Any) -> Any:
    x = np.asarray(x)
    return x if x.dtype == np.bool_ else x != 0
