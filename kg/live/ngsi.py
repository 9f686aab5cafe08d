"""NGSI-LD notifications (ETSI GS CIM 009) as status events: what a FIWARE context broker sends.

Cities that run a context broker (Orion-LD, Scorpio, Stellio) keep each asset's
state as an entity; a subscription makes the broker POST a notification
``{"subscriptionId", "notifiedAt", "data": [entities]}`` whenever it changes.
:func:`notification_items` maps each entity to a status event by a
:class:`NgsiRule` (docs/live.md, "Smart-city brokers"):

* the **asset** is the part of the entity id that ``id_pattern`` captures as
  ``asset`` (default: what follows ``urn:ngsi-ld:TYPE:``);
* the **status** is the value of the property ``attribute`` (default ``status``),
  read in the normalized form (``{"type": "Property", "value": ...}``) or the
  key-values form (a bare value); values in ``down_values`` are ``down``, in
  ``up_values`` ``up``, anything else is an error;
* the **time** is the property's ``observedAt``, else the notification's
  ``notifiedAt``;
* the **id** is ``ngsi:ENTITY_ID:STATUS_VALUE:TIME``, so a notification delivered
  twice (or by two subscriptions) is a duplicate, not a second report;
* the **source** is ``ngsi-ld:SUBSCRIPTION_ID``.

Examples
--------
>>> body = {"subscriptionId": "urn:ngsi-ld:Subscription:grid", "notifiedAt": "2026-07-01T00:05:00Z",
...         "data": [{"id": "urn:ngsi-ld:Substation:s-0028", "type": "Substation",
...                   "status": {"type": "Property", "value": "outOfService",
...                              "observedAt": "2026-07-01T00:00:00Z"}}]}
>>> notification_items(body, NgsiRule())
[('data[0]', {'id': 'ngsi:urn:ngsi-ld:Substation:s-0028:outOfService:2026-07-01T00:00:00Z', 'asset': 's-0028', \
'status': 'down', 'time': '2026-07-01T00:00:00Z', 'source': 'ngsi-ld:urn:ngsi-ld:Subscription:grid'})]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kg.errors import Problem, ValidationError
from kg.i18n import _l
from kg.live.events import MAX_PROBLEMS

__all__ = ["NgsiRule", "notification_items"]


@dataclass(frozen=True)
class NgsiRule:
    """How entities map to events (every part configurable: ``KG_NGSI_*`` in the API)."""

    id_pattern: str = r"^urn:ngsi-ld:[^:]+:(?P<asset>.+)$"
    attribute: str = "status"
    down_values: tuple[str, ...] = ("down", "outOfService", "failed", "broken", "off", "false")
    up_values: tuple[str, ...] = ("up", "inService", "working", "ok", "on", "true")

    def __post_init__(self) -> None:
        pattern = re.compile(self.id_pattern)
        if "asset" not in pattern.groupindex:
            raise ValueError(f"the NGSI-LD id pattern {self.id_pattern!r} has no group named 'asset'")


def _status_value(prop: Any) -> tuple[Any, Any]:
    """(value, observedAt) of a property in the normalized or the key-values form."""
    if isinstance(prop, dict):
        return prop.get("value"), prop.get("observedAt")
    return prop, None


def notification_items(body: Any, rule: NgsiRule) -> list[tuple[str, dict[str, Any]]]:
    """The ``(JSON path, event object)`` of each entity of a notification, for :func:`kg.live.parse_events`.

    Raises
    ------
    ValidationError
        Naming ``data[k].id``, ``data[k].ATTRIBUTE`` ... for every entity that does not map.
    """
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ValidationError([Problem("data", _l("expected an NGSI-LD notification: an object with a data list"))])
    pattern = re.compile(rule.id_pattern)
    subscription = body.get("subscriptionId")
    source = f"ngsi-ld:{subscription}" if isinstance(subscription, str) and subscription else "ngsi-ld"
    notified = body.get("notifiedAt")
    problems: list[Problem] = []
    items: list[tuple[str, dict[str, Any]]] = []
    for k, entity in enumerate(body["data"]):
        where = f"data[{k}]"
        if not isinstance(entity, dict):
            problems.append(Problem(where, _l("expected an entity object")))
            continue
        entity_id = entity.get("id")
        match = pattern.match(entity_id) if isinstance(entity_id, str) else None
        if match is None:
            problems.append(Problem(f"{where}.id", _l("entity id {id} does not match the rule's pattern {pattern} "
                                                      "(KG_NGSI_ID_PATTERN)", id=repr(entity_id),
                                                      pattern=repr(rule.id_pattern))))
            continue
        if rule.attribute not in entity:
            problems.append(Problem(f"{where}.{rule.attribute}", _l(
                "the entity has no {attribute} property (KG_NGSI_ATTRIBUTE); subscribe with it in attributes",
                attribute=repr(rule.attribute))))
            continue
        value, observed = _status_value(entity[rule.attribute])
        text = str(value).lower() if isinstance(value, str | bool) else None
        downs = {v.lower() for v in rule.down_values}
        ups = {v.lower() for v in rule.up_values}
        if text not in downs | ups:
            problems.append(Problem(f"{where}.{rule.attribute}", _l(
                "value {value} is neither a down value ({downs}) nor an up value ({ups})", value=repr(value),
                downs=", ".join(rule.down_values), ups=", ".join(rule.up_values))))
            continue
        time = observed if observed is not None else notified
        items.append((where, {"id": f"ngsi:{entity_id}:{value}:{time}", "asset": match["asset"],
                              "status": "down" if text in downs else "up", "time": time, "source": source}))
    if problems:
        raise ValidationError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)
    return items
