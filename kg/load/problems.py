"""Plain-language messages for what pydantic found wrong in one row.

Examples
--------
>>> from kg.model import Region
>>> from pydantic import ValidationError
>>> try:
...     Region.model_validate({"id": "yz\\x1b[2J", "level": "district"})
... except ValidationError as exc:
...     print(str(describe_pydantic_errors(exc, {})[0])[:80])
column 'id': holds U+001B (a control character) at character 3; ids may not hold
"""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import ValidationError as PydanticError

from kg.i18n import N_, Message, _l
from kg.model import MAX_TEXT_LENGTH, PROPS_FIELD, RESERVED_PREFIX, TEXT_RULES

__all__ = ["describe_pydantic_errors", "shown"]

_EXPECTED = {
    "float_parsing": N_("expected a number, got {value}"),
    "float_type": N_("expected a number, got {value}"),
    "int_parsing": N_("expected a whole number, got {value}"),
    "int_parsing_size": N_("expected a whole number, got {value}"),
    "int_type": N_("expected a whole number, got {value}"),
    "int_from_float": N_("expected a whole number, got {value}"),
    "string_type": N_("expected text, got {value}"),
    "bool_parsing": N_("expected true or false, got {value}"),
    "dict_type": N_("expected an object, got {value}"),
}
_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
_CATEGORY = {"Cc": N_("a control character"), "Cf": N_("an invisible formatting character")}
_SHOWN = 60


def shown(value: Any) -> str:
    """``repr(value)``, cut to a readable length (a 200,000-character cell is not echoed whole)."""
    text = repr(value)
    if len(text) <= _SHOWN:
        return text
    size = f" ({len(value):,} characters)" if isinstance(value, str) else ""
    return f"{text[:_SHOWN]}...{size}"


def _forbidden(value: str, pattern: str) -> Message:
    """Which character of ``value`` the rule ``pattern`` refuses, and where, in words."""
    rule = TEXT_RULES[pattern]
    if rule.applies_to == "column names" and value.startswith(RESERVED_PREFIX):
        return _l("names starting with {prefix} are reserved for the stores' own bookkeeping (such as _props); "
                  "rename the column", prefix=repr(RESERVED_PREFIX))
    rule_text = _l("{things} may not hold {refused}", things=_l(rule.applies_to), refused=_l(rule.refuses))
    for position, char in enumerate(value, start=1):
        if rule.refused(char):
            name = unicodedata.name(char, "")
            category = _l(_CATEGORY.get(unicodedata.category(char), N_("an invisible character")))
            label = f"U+{ord(char):04X}" + (f" {name}" if name else "")
            return _l("holds {char} ({category}) at character {position}; {rule}", char=label, category=category,
                      position=position, rule=rule_text)
    return rule_text


def _column(loc: tuple[int | str, ...]) -> str:
    """The column an error is about: a field, or an extra column (``props`` entries are named by key)."""
    if not loc:
        return ""
    if loc[0] == PROPS_FIELD and len(loc) > 1:
        return str(loc[1])
    return str(loc[0])


def describe_pydantic_errors(exc: PydanticError, values: dict[str, Any]) -> list[Message | str]:
    """One message per error: ``column 'lat': expected a number <= 90, got '91.5'`` (said when shown)."""
    messages: list[Message | str] = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        column = _column(loc)
        got = values.get(column, err.get("input"))
        kind = err["type"]
        is_key = bool(loc) and loc[-1] == "[key]"
        text: Message | str
        if kind == "missing":
            text = _l("missing required value")
        elif kind == "string_too_short" and is_key:
            messages.append(_l("a column has an empty name; name every column"))
            continue
        elif kind == "string_too_short":
            text = _l("must not be empty")
        elif kind == "string_too_long":
            limit = err.get("ctx", {}).get("max_length", MAX_TEXT_LENGTH)
            size = len(got) if isinstance(got, str) else len(str(err.get("input", "")))
            template = (N_("the name is {size} characters long; at most {limit} are accepted") if is_key
                        else N_("the value is {size} characters long; at most {limit} are accepted"))
            text = _l(template, size=f"{size:,}", limit=f"{limit:,}")
        elif kind == "string_pattern_mismatch":
            text = _forbidden(str(err.get("input", "")), str(err.get("ctx", {}).get("pattern", "")))
        elif kind == "string_unicode":
            text = _l("is not valid Unicode text (a lone surrogate, such as the JSON escape \\ud800)")
        elif kind in _BOUNDS:
            bound = next(iter(err.get("ctx", {}).values()))
            text = _l("expected a number {bound}, got {value}", bound=f"{_BOUNDS[kind]} {bound}", value=shown(got))
        elif kind.startswith("int_parsing") and str(got).strip().lstrip("+-").isdigit():
            text = _l("expected a whole number in range, got one of {n} digits",
                      n=f"{len(str(got).strip().lstrip('+-')):,}")
        elif kind in _EXPECTED:
            text = _l(_EXPECTED[kind], value=shown(got))
        elif kind == "extra_forbidden":
            text = _l("is not a known field")
        else:
            # A validator of kg.model raised ValueError with a message of its own (made with _l).
            error = err.get("ctx", {}).get("error")
            said = error.args[0] if isinstance(error, ValueError) and error.args else None
            text = said if isinstance(said, Message) else str(err["msg"]).removeprefix("Value error, ")
        messages.append(_l("column {column}: {message}", column=shown(column), message=text) if column or is_key
                        else text)
    return messages
