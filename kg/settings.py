"""The one configuration object of the REST server, read from ``KG_*`` environment variables.

It lives in ``kg`` rather than in ``api`` because ``kg serve`` checks it
before it starts the server (and prints what is wrong, as every command does)
while ``kg`` never imports ``api``; it needs pydantic-settings, not FastAPI.
``Settings`` is created once per process (by :func:`load_settings`, from the
environment, or by a caller that builds one explicitly, e.g. tests) and
handed to :func:`api.main.create_app`. It refuses to exist without API keys
unless ``insecure_dev`` says so: a server never starts open by accident.

Examples
--------
>>> s = Settings(api_keys="0123456789abcdef:read,fedcba9876543210:admin")
>>> sorted(role.name for role in s.keys().values())
['admin', 'read']
>>> Role.read < Role.write < Role.admin
True
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from enum import IntEnum
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kg.errors import KGError
from kg.executor import ClusterError, check_address
from kg.i18n import Message, _l, join
from kg.store import DEFAULT_STORE_URL

__all__ = ["MIN_KEY_LENGTH", "Role", "Settings", "SettingsError", "is_loopback", "load_settings", "parse_api_keys"]

MIN_KEY_LENGTH = 16
"""Shorter keys are refused: ``openssl rand -hex 16`` gives 32 characters."""

_KEY_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces, so keys survive HTTP headers


class Role(IntEnum):
    """What a key may do; each role includes the ones below it."""

    read = 1
    write = 2
    admin = 3


class SettingsError(KGError):
    """The configuration is unusable; the message names the variable and never shows a key."""


def parse_api_keys(text: str) -> dict[str, Role]:
    """Parse ``"KEY:ROLE,KEY:ROLE"`` into ``{key: role}``.

    Error messages name the entry by position, never by its key.

    >>> parse_api_keys("0123456789abcdef:write")
    {'0123456789abcdef': <Role.write: 2>}
    >>> parse_api_keys("short:read")
    Traceback (most recent call last):
    ...
    ValueError: entry 1: the key is 5 characters long; use at least 16 (e.g. `openssl rand -hex 16`)
    """
    keys: dict[str, Role] = {}
    for number, entry in enumerate(text.split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        key, sep, role_name = entry.rpartition(":")
        key, role_name = key.strip(), role_name.strip()
        if not sep or not key:
            raise ValueError(_l("entry {number}: expected KEY:ROLE with ROLE one of read, write, admin",
                                number=number))
        try:
            role = Role[role_name]
        except KeyError:
            raise ValueError(_l("entry {number}: unknown role {role}; expected read, write or admin", number=number,
                                role=repr(role_name))) from None
        if len(key) < MIN_KEY_LENGTH:
            raise ValueError(_l("entry {number}: the key is {size} characters long; use at least {least} (e.g. "
                                "`openssl rand -hex 16`)", number=number, size=len(key), least=MIN_KEY_LENGTH))
        if not _KEY_CHARS.fullmatch(key):
            raise ValueError(_l("entry {number}: the key may only hold printable ASCII without spaces", number=number))
        if key in keys:
            raise ValueError(_l("entry {number}: the same key appears twice", number=number))
        keys[key] = role
    return keys


def is_loopback(host: object) -> bool:
    """True for a loopback IP address (``127.0.0.0/8``, ``::1``, ``::ffff:127.0.0.1``) or ``localhost``:
    the only addresses insecure dev mode serves.

    >>> [is_loopback(h) for h in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "localhost", "0.0.0.0", "10.1.2.3")]
    [True, True, True, True, False, False]
    """
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(str(host))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class Settings(BaseSettings):
    """Everything the API can be told; each field is the variable ``KG_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="KG_", extra="ignore", frozen=True)

    store: str = Field(DEFAULT_STORE_URL, description="Store URL (sqlite:///FILE.db, bolt://HOST:PORT, ...).")
    api_keys: SecretStr | None = Field(None, description='API keys as "KEY:ROLE,..." (roles read < write < admin).')
    insecure_dev: bool = Field(False, description="Allow running without keys (loopback clients only, every "
                               "caller admin).")

    max_body_bytes: int = Field(1 << 20, ge=1024, description="Largest request body, except loads (413 above).")
    max_load_bytes: int = Field(256 << 20, ge=1024, description="Largest body of POST /v1/loads.")
    max_events_bytes: int = Field(16 << 20, ge=1024, description="Largest body of POST /v1/events (up to "
                                  "10,000 events).")
    max_unzipped_bytes: int = Field(2 << 30, ge=1024, description="Largest total size of a zip bundle's files.")
    max_zip_files: int = Field(64, ge=1, description="Most files in a zip bundle.")
    request_timeout_s: float = Field(30.0, gt=0, description="Time limit of one request (504 beyond, its work "
                                     "stopped); not loads.")
    max_concurrent_per_key: int = Field(2, ge=1, description="Most expensive requests (cascades, criticality, "
                                        "robustness, paths, SPOF, coordination, Cypher, SPARQL, exports, loads) one "
                                        "key may have running at once (429 beyond).")
    max_concurrent: int = Field(4, ge=1, description="Most expensive requests running at once in this process, "
                                "all keys together (429 beyond).")
    max_failures: int = Field(200_000, ge=1, description="Most failures a cascade answer describes (422 beyond; "
                              "about 1.5 KB of memory each).")
    load_timeout_s: float = Field(300.0, gt=0, description="Time limit of validating one load (413 beyond; nothing "
                                  "is written); also how long a load waits for the one before it (503 beyond).")
    max_depth: int = Field(50, ge=1, description="Largest depth of dependents/dependencies.")
    max_top: int = Field(1000, ge=1, description="Largest top of /v1/criticality.")
    max_samples: int = Field(1000, ge=1, description="Most Monte Carlo samples of a hazard cascade.")
    max_steps: int = Field(1000, ge=1, description="Most steps of a robustness curve (POST /v1/robustness).")
    max_curve_samples: int = Field(100, ge=1, description="Most random orders of a robustness curve: with "
                                   "max_steps, at most about 100,000 points per request.")
    max_page: int = Field(1000, ge=1, description="Largest page of /v1/assets.")
    max_paths: int = Field(20, ge=1, description="Most paths of /v1/assets/{id}/paths/{other}.")
    snapshot_recheck_ms: float = Field(50.0, ge=0, description="How long a snapshot found current is used "
                                      "before the store's version is checked again (0: on every request); "
                                      "a load through this server is seen at once.")
    cypher_timeout_s: float = Field(10.0, gt=0, description="Time limit of one Cypher query.")
    cypher_row_limit: int = Field(10_000, ge=1, description="Most rows one Cypher query returns.")

    # Live state (docs/live.md)
    mqtt_url: str | None = Field(None, description="Subscribe to status events at mqtt://HOST:PORT/PREFIX (QoS 1, "
                                 "persistent session); none: no MQTT.")
    mqtt_client_id: str = Field("citykg-live", description="MQTT client id: the broker keeps this session's "
                                "subscription and undelivered messages across restarts.")
    ngsi_id_pattern: str = Field(r"^urn:ngsi-ld:[^:]+:(?P<asset>.+)$", description="NGSI-LD notifications: a "
                                 "regular expression whose group 'asset' takes the asset id from the entity id.")
    ngsi_attribute: str = Field("status", description="NGSI-LD notifications: the property holding the status.")
    ngsi_down_values: str = Field("down,outOfService,failed,broken,off,false", description="NGSI-LD "
                                  "notifications: status values meaning down (comma-separated, any case).")
    ngsi_up_values: str = Field("up,inService,working,ok,on,true", description="NGSI-LD notifications: status "
                                "values meaning up (comma-separated, any case).")
    live_coalesce_ms: float = Field(50.0, ge=0, description="At most one update of GET /v1/live/stream per this "
                                    "time (a lone event goes out at once, a burst once per window).")
    mcp: bool = Field(False, description="Also serve MCP (Streamable HTTP) at /mcp for large-model assistants, "
                      "behind the same keys, roles and limits (kg serve --mcp).")

    # SPARQL (/v1/sparql)
    sparql_timeout_s: float = Field(10.0, gt=0, description="Time limit of one SPARQL query (its worker process "
                                    "is killed beyond it; 504).")
    sparql_max_rows: int = Field(10_000, ge=1, description="Most rows (SELECT) or triples (CONSTRUCT, DESCRIBE) one "
                                 "SPARQL answer may have (422 beyond).")
    sparql_workers: int = Field(2, ge=1, description="SPARQL queries that may run at once (one process each).")
    sparql_dir: str | None = Field(None, description="Folder for the SPARQL datasets (default: a temporary folder "
                                   "removed at shutdown).")
    cluster: str | None = Field(None, description="Run batch work (Monte Carlo samples, criticality, robustness "
                                "samples, plan evaluations) on the Dask scheduler at tcp://HOST:PORT "
                                "(docs/cluster.md); none: in the server's own process.")

    @field_validator("cluster")
    @classmethod
    def _cluster_address(cls, value: str | None) -> str | None:
        try:
            return check_address(value)
        except ClusterError as exc:
            raise ValueError(*exc.args) from None

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url_parses(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or any(c in parts.path for c in "+#"):
                raise ValueError(_l("expected mqtt://HOST:PORT/PREFIX (or mqtts://), a prefix without + or #"))
        return value

    @field_validator("ngsi_id_pattern")
    @classmethod
    def _ngsi_pattern_compiles(cls, value: str) -> str:
        try:
            groups = re.compile(value).groupindex
        except re.error as exc:
            raise ValueError(_l("not a regular expression: {detail}", detail=str(exc))) from None
        if "asset" not in groups:
            raise ValueError(_l("needs a group named asset, as in ^urn:ngsi-ld:[^:]+:(?P<asset>.+)$"))
        return value

    @field_validator("api_keys")
    @classmethod
    def _keys_parse(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_api_keys(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _keys_or_insecure_dev(self) -> Settings:
        keys = self.keys()
        if not keys and not self.insecure_dev:
            raise ValueError(_l("no API keys: set KG_API_KEYS to KEY:ROLE pairs (roles read, write, admin), or run "
                                "with --insecure-dev (KG_INSECURE_DEV=1) on your own machine"))
        return self

    def keys(self) -> dict[str, Role]:
        """The configured keys and their roles (empty in insecure dev mode without keys)."""
        return parse_api_keys(self.api_keys.get_secret_value()) if self.api_keys else {}

    def key_digests(self) -> dict[bytes, Role]:
        """SHA-256 of each key with its role: requests are checked against these (fixed-length digests,
        compared in constant time), so the request path never touches the keys themselves."""
        return {hashlib.sha256(key.encode()).digest(): role for key, role in self.keys().items()}

    @property
    def auth_disabled(self) -> bool:
        """True only in insecure dev mode without keys: every caller is admin."""
        return self.insecure_dev and not self.api_keys


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment; raise :class:`SettingsError` with a clean message.

    The message names each offending variable and never repeats its value
    (which may hold keys), unlike pydantic's own error text.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines: list[Message | str] = []
        for err in exc.errors(include_url=False, include_input=False):
            field = ".".join(str(p) for p in err["loc"])
            # Our validators raise ValueError(Message): keep it, to be said in the reader's language;
            # pydantic's own words (a wrong type) stay as pydantic says them.
            error = err.get("ctx", {}).get("error")
            said = error.args[0] if isinstance(error, ValueError) and error.args else None
            message = said if isinstance(said, Message) else str(err["msg"]).removeprefix("Value error, ")
            lines.append(_l("{variable}: {message}", variable=f"KG_{field.upper()}", message=message) if field
                         else message)
        raise SettingsError(join(lines, "; ")) from None
