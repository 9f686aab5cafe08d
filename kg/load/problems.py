"""Plain-language messages for what pydantic found wrong in one row."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticError

__all__ = ["describe_pydantic_errors"]

_EXPECTED = {
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "string_type": "expected text",
    "bool_parsing": "expected true or false",
    "dict_type": "expected an object",
}
_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}


def describe_pydantic_errors(exc: PydanticError, values: dict[str, Any]) -> list[str]:
    """One message per error: ``column 'lat': expected a number <= 90, got '91.5'``."""
    messages = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        column = str(loc[0]) if loc else ""
        got = values.get(column, err.get("input"))
        kind = err["type"]
        if kind == "missing":
            text = "missing required value"
        elif kind == "string_too_short":
            text = "must not be empty"
        elif kind in _BOUNDS:
            bound = next(iter(err.get("ctx", {}).values()))
            text = f"expected a number {_BOUNDS[kind]} {bound}, got {got!r}"
        elif kind in _EXPECTED:
            text = f"{_EXPECTED[kind]}, got {got!r}"
        elif kind == "extra_forbidden":
            text = "is not a known field"
        else:
            text = str(err["msg"]).removeprefix("Value error, ")
        messages.append(f"column {column!r}: {text}" if column else text)
    return messages
