"""Schemathesis against the app's own OpenAPI schema, in-process (ASGI, no network), on both stores.

For every operation, Hypothesis draws requests from the schema, valid ones and
invalid ones, sent with the admin key: no 5xx, every response conforms to the
schema (documented status, content type, body shape and headers), invalid data
is rejected with a 4xx and valid data accepted. Auth is checked too: an
operation that declares a key must refuse a request without one.

``/v1/cypher``, ``/v1/sparql``, ``/v1/loads``, ``/v1/events`` and
``/v1/ngsi-ld/notify`` skip only "valid data is accepted": any string is a
schema-valid Cypher or SPARQL query or bundle, and any well-formed event names
an asset, yet only a real query, bundle or asset of the graph is accepted (a 4xx
naming the problem), which no schema can say. ``/v1/live/stream`` never ends.

The test is parametrised by operation from a schema built without any store
(the schema does not depend on the data), so a failure names its operation.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.main import create_app
from tests.api.conftest import auth, settings_for

MAX_EXAMPLES = 20
"""Per operation, store and mode: about 1,000 requests per store, well under a minute."""
DERANDOMIZE = os.environ.get("CI") == "true"
"""In CI the examples are the same on every run (a red CI is reproducible); locally they vary, to find more."""
_CONTENT_IS_FREE_TEXT = {"/v1/cypher", "/v1/sparql", "/v1/loads", "/v1/events", "/v1/ngsi-ld/notify"}
_ENDLESS = {"/v1/live/stream"}
"""Server-Sent Events never end, and an in-process client reads a body to its end: tested over a real server
(tests/api/test_live.py)."""
_RULES_ACROSS_PARAMETERS = {"/v1/export"}
"""Operations whose query parameters obey rules OpenAPI cannot state (export: fail and hazard only with a GIS
format and not together, start with its UTC offset): a schema-valid request may rightly be a 422 there."""
_KEYED_BY_THE_DATA = {"/v1/restorations"}
"""Operations whose body maps the data's ids to values (restorations: repair_hours by asset id or type, crews by
agency): random keys name nothing, a rightful 422. (With fail or hazard_zones the random ids answered 404 first;
live names no ids, so the keys are checked.)"""


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: schemathesis.SerializationContext, value: object) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else str(value).encode("utf-8")


@schemathesis.serializer("application/sparql-query")
def _sparql_query(ctx: schemathesis.SerializationContext, value: object) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else str(value).encode("utf-8")


@schemathesis.serializer("application/zip")
def _zip(ctx: schemathesis.SerializationContext, value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _cases() -> list[object]:
    """(operation label, generation mode) pairs; no invalid mode for operations without any input."""
    app = create_app(settings_for("sqlite:///never-opened.db"))  # the store opens lazily: never here
    schema = schemathesis.openapi.from_dict(app.openapi())
    out = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in _ENDLESS:
            continue
        has_input = bool(operation.body) or any(True for _ in operation.iter_parameters())
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            if mode is schemathesis.GenerationMode.POSITIVE or has_input:
                out.append(pytest.param(operation.label, mode, id=f"{operation.label}-{mode.value}"))
    return sorted(out, key=lambda p: p.id or "")


@pytest.mark.parametrize(("label", "mode"), _cases())
def test_operation_conforms_to_the_schema(app: FastAPI, label: str, mode: schemathesis.GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label
    free = _CONTENT_IS_FREE_TEXT | _RULES_ACROSS_PARAMETERS | _KEYED_BY_THE_DATA
    excluded = [positive_data_acceptance] if operation.path in free else []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=auth("admin"), excluded_checks=excluded)

    check()
