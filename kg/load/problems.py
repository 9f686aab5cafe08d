"""Plain-language messages for what pydantic found wrong in one row.

Examples
--------
>>> from kg.model import Region
>>> from pydantic import ValidationError
>>> try:
...     Region.model_validate({"id": "yz\\x1b[2J", "level": "district"})
... except ValidationError as exc:
...     print(describe_pydantic_errors(exc, {})[0][:80])
column 'id': holds U+001B (a control character) at character 3; ids may not hold
"""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import ValidationError as PydanticError

from kg.model import MAX_TEXT_LENGTH, PROPS_FIELD, RESERVED_PREFIX, TEXT_RULES

__all__ = ["describe_pydantic_errors", "shown"]

_EXPECTED = {
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "int_parsing": "expected a whole number",
    "int_parsing_size": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "string_type": "expected text",
    "bool_parsing": "expected true or false",
    "dict_type": "expected an object",
}
_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
_CATEGORY = {"Cc": "a control character", "Cf": "an invisible formatting character"}
_SHOWN = 60


def shown(value: Any) -> str:
    """``repr(value)``, cut to a readable length (a 200,000-character cell is not echoed whole)."""
    text = repr(value)
    if len(text) <= _SHOWN:
        return text
    size = f" ({len(value):,} characters)" if isinstance(value, str) else ""
    return f"{text[:_SHOWN]}...{size}"


def _forbidden(value: str, pattern: str) -> str:
    """Which character of ``value`` the rule ``pattern`` refuses, and where, in words."""
    rule = TEXT_RULES[pattern]
    if rule.applies_to == "column names" and value.startswith(RESERVED_PREFIX):
        return (f"names starting with {RESERVED_PREFIX!r} are reserved for the stores' own bookkeeping "
                "(such as _props); rename the column")
    for position, char in enumerate(value, start=1):
        if rule.refused(char):
            name = unicodedata.name(char, "")
            category = _CATEGORY.get(unicodedata.category(char), "an invisible character")
            label = f"U+{ord(char):04X}" + (f" {name}" if name else "")
            return f"holds {label} ({category}) at character {position}; {rule.applies_to} may not hold {rule.refuses}"
    return f"{rule.applies_to} may not hold {rule.refuses}"


def _column(loc: tuple[int | str, ...]) -> str:
    """The column an error is about: a field, or an extra column (``props`` entries are named by key)."""
    if not loc:
        return ""
    if loc[0] == PROPS_FIELD and len(loc) > 1:
        return str(loc[1])
    return str(loc[0])


def describe_pydantic_errors(exc: PydanticError, values: dict[str, Any]) -> list[str]:
    """One message per error: ``column 'lat': expected a number <= 90, got '91.5'``."""
    messages = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        column = _column(loc)
        got = values.get(column, err.get("input"))
        kind = err["type"]
        is_key = bool(loc) and loc[-1] == "[key]"
        if kind == "missing":
            text = "missing required value"
        elif kind == "string_too_short" and is_key:
            messages.append("a column has an empty name; name every column")
            continue
        elif kind == "string_too_short":
            text = "must not be empty"
        elif kind == "string_too_long":
            limit = err.get("ctx", {}).get("max_length", MAX_TEXT_LENGTH)
            size = len(got) if isinstance(got, str) else len(str(err.get("input", "")))
            what = "the name" if is_key else "the value"
            text = f"{what} is {size:,} characters long; at most {limit:,} are accepted"
        elif kind == "string_pattern_mismatch":
            text = _forbidden(str(err.get("input", "")), str(err.get("ctx", {}).get("pattern", "")))
        elif kind == "string_unicode":
            text = "is not valid Unicode text (a lone surrogate, such as the JSON escape \\ud800)"
        elif kind in _BOUNDS:
            bound = next(iter(err.get("ctx", {}).values()))
            text = f"expected a number {_BOUNDS[kind]} {bound}, got {shown(got)}"
        elif kind.startswith("int_parsing") and str(got).strip().lstrip("+-").isdigit():
            text = f"expected a whole number in range, got one of {len(str(got).strip().lstrip('+-')):,} digits"
        elif kind in _EXPECTED:
            text = f"{_EXPECTED[kind]}, got {shown(got)}"
        elif kind == "extra_forbidden":
            text = "is not a known field"
        else:
            text = str(err["msg"]).removeprefix("Value error, ")
        messages.append(f"column {shown(column)}: {text}" if column or is_key else text)
    return messages
