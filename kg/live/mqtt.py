"""Status events over MQTT: a subscriber that stores every message once, across broker and server restarts.

``mqtt://HOST:PORT/PREFIX`` (``mqtts://`` for TLS; ``USER:PASSWORD@`` in the
URL when the broker wants them) subscribes to ``PREFIX/#`` with QoS 1 in a
persistent session (a fixed client id, clean session off). A message is
acknowledged only after its events are stored (or found malformed and put
aside), so a server that stops between receiving and storing gets the message
again from the broker; the broker keeps the session and the messages queued
for it across its own restarts (persistence on). A message delivered twice is
harmless: event ids make the second one a duplicate.

A message holds one event object or a JSON array of them; on a topic
``PREFIX/ASSET_ID`` an event may leave out ``asset`` (the topic names it).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kg.errors import KGError, Problem, StoreUnavailable, ValidationError
from kg.i18n import _l

__all__ = ["MqttSubscriber", "MqttUrl", "message_items", "parse_mqtt_url"]

_log = logging.getLogger("citykg.live")
_RETRY_S = (0.5, 1.0, 2.0, 5.0)


@dataclass(frozen=True)
class MqttUrl:
    """A broker address and the topic prefix to follow."""

    host: str
    port: int
    prefix: str
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @property
    def topic_filter(self) -> str:
        return f"{self.prefix}/#" if self.prefix else "#"


def parse_mqtt_url(url: str) -> MqttUrl:
    """``mqtt://HOST:PORT/PREFIX`` -> :class:`MqttUrl` (port 1883, 8883 for ``mqtts``, by default).

    >>> parse_mqtt_url("mqtt://127.0.0.1:1883/city/status")
    MqttUrl(host='127.0.0.1', port=1883, prefix='city/status', tls=False, username=None, password=None)
    """
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValidationError([Problem("--mqtt", _l("expected mqtt://HOST:PORT/PREFIX, got {url}", url=repr(url)))])
    try:
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    except ValueError:
        raise ValidationError([Problem("--mqtt", _l("the port of {url} is not a number from 1 to 65535",
                                                    url=repr(url)))]) from None
    prefix = parts.path.strip("/")
    if any(c in prefix for c in "+#"):
        raise ValidationError([Problem("--mqtt", _l("the topic prefix {prefix} may not hold + or #",
                                                    prefix=repr(prefix)))])
    return MqttUrl(parts.hostname, port, prefix, parts.scheme == "mqtts",
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


def message_items(prefix: str, topic: str, payload: bytes) -> list[tuple[str, Any]]:
    """The ``(JSON path, object)`` of each event in a message (``$`` or ``$[k]``).

    Raises
    ------
    ValidationError
        When the payload is not UTF-8 JSON holding an object or an array of objects.
    """
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError([Problem("$", _l("not a JSON event or array of events: {detail}",
                                               detail=str(exc)))]) from None
    items = [("$", data)] if isinstance(data, dict) else [(f"$[{k}]", x) for k, x in enumerate(data)] \
        if isinstance(data, list) else None
    if items is None:
        raise ValidationError([Problem("$", _l("expected a JSON event object or an array of them"))])
    rest = topic[len(prefix):].strip("/") if prefix and topic.startswith(prefix) else topic
    if rest and "/" not in rest:  # PREFIX/ASSET_ID: the topic names the asset
        items = [(w, {"asset": rest, **x}) if isinstance(x, dict) else (w, x) for w, x in items]
    return items


class MqttSubscriber:
    """Follows ``url`` on a background thread and hands every message to ``handle(topic, payload)``.

    ``handle`` stores the message's events (or sets a malformed one aside) and
    returns; the message is then acknowledged. When it raises
    :class:`~kg.errors.StoreUnavailable` the store is tried again with growing
    pauses, the message still unacknowledged, so nothing is lost while the
    store is down. Any other error is logged and the message acknowledged:
    the subscriber never stops on one message.
    """

    def __init__(self, url: str, handle: Callable[[str, bytes], None], *, client_id: str = "citykg-live") -> None:
        self.url = parse_mqtt_url(url)
        self._handle = handle
        self._stopping = threading.Event()
        self.connected = threading.Event()
        """Set while connected and subscribed (the broker has acknowledged the subscription)."""
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                             manual_ack=True)
        if self.url.username:
            client.username_pw_set(self.url.username, self.url.password)
        if self.url.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._client = client

    def start(self) -> None:
        """Connect in the background (a broker that is down now is retried until it answers)."""
        self._client.connect_async(self.url.host, self.url.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect; the broker keeps the session and queues what arrives until the next start."""
        self._stopping.set()
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            _log.error("MQTT broker %s:%s refused the connection: %s", self.url.host, self.url.port, reason)
            return
        client.subscribe(self.url.topic_filter, qos=1)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        if any(r.is_failure for r in reasons):
            _log.error("MQTT broker %s:%s refused the subscription to %s: %s", self.url.host, self.url.port,
                       self.url.topic_filter, reasons)
            return
        self.connected.set()
        _log.info("following MQTT %s on %s:%s", self.url.topic_filter, self.url.host, self.url.port)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connected.clear()
        if not self._stopping.is_set():
            _log.warning("lost the MQTT broker %s:%s (%s); reconnecting", self.url.host, self.url.port, reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        attempt = 0
        while True:
            try:
                self._handle(message.topic, bytes(message.payload))
                break
            except StoreUnavailable as exc:
                if self._stopping.is_set():
                    return  # unacknowledged: the broker delivers it again to the next session
                pause = _RETRY_S[min(attempt, len(_RETRY_S) - 1)]
                _log.warning("cannot store the message on %s (%s); trying again in %g s", message.topic, exc, pause)
                attempt += 1
                time.sleep(pause)
            except (KGError, ValueError, TypeError) as exc:  # a bug or bad data in one message: never stop
                _log.error("MQTT message on %s dropped: %s", message.topic, exc)
                break
        client.ack(message.mid, message.qos)
