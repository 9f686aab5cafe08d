"""``kg serve``: refuses to start without keys, insecure dev refuses any but a loopback bind, settings reach
uvicorn (tests/api/test_bounds_server.py starts real servers)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import run_kg


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    import uvicorn

    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    for name in ("KG_API_KEYS", "KG_INSECURE_DEV", "KG_STORE"):
        monkeypatch.setenv(name, "")  # recorded, so what `kg serve` sets is undone after the test
        monkeypatch.delenv(name)
    return calls


def test_refuses_without_keys(uvicorn_calls: list[tuple[str, dict[str, Any]]]) -> None:
    result = run_kg("serve")
    assert result.exit_code == 1
    assert "no API keys: set KG_API_KEYS" in result.stderr
    assert uvicorn_calls == []


def test_bad_keys_are_named_not_shown(uvicorn_calls: list[tuple[str, dict[str, Any]]],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_API_KEYS", "tiny-secret:read")
    result = run_kg("serve")
    assert result.exit_code == 1
    assert "KG_API_KEYS: entry 1" in result.stderr and "tiny-secret" not in result.stderr


def test_runs_api_main_app_with_the_options(uvicorn_calls: list[tuple[str, dict[str, Any]]],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_API_KEYS", "abcdefghijklmnopqrstuvwxyz:read")
    result = run_kg("serve", "--host", "0.0.0.0", "--port", "8123", "--workers", "3", "--store", "sqlite:///x.db")
    assert result.exit_code == 0, result.output
    [(target, kw)] = uvicorn_calls
    assert target == "api.main:app"
    assert (kw["host"], kw["port"], kw["workers"], kw["access_log"]) == ("0.0.0.0", 8123, 3, False)
    import os

    assert os.environ["KG_STORE"] == "sqlite:///x.db"  # what worker processes read


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.2", "example.org", ""])
def test_insecure_dev_refuses_to_bind_anything_but_loopback(uvicorn_calls: list[tuple[str, dict[str, Any]]],
                                                            host: str) -> None:
    result = run_kg("serve", "--insecure-dev", "--host", host)
    assert result.exit_code == 1
    assert f"refusing to bind {host}" in result.stderr and "serves loopback only" in result.stderr
    assert uvicorn_calls == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_insecure_dev_on_loopback_starts_and_says_so(uvicorn_calls: list[tuple[str, dict[str, Any]]],
                                                     host: str) -> None:
    result = run_kg("serve", "--insecure-dev", "--host", host)
    assert result.exit_code == 0, result.output
    assert uvicorn_calls[0][1]["host"] == host
    assert "INSECURE DEV MODE" in result.stderr and "Loopback only" in result.stderr


def test_insecure_dev_with_keys_may_bind_anywhere(uvicorn_calls: list[tuple[str, dict[str, Any]]],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_API_KEYS", "abcdefghijklmnopqrstuvwxyz:read")  # keys are checked: nothing is open
    result = run_kg("serve", "--insecure-dev", "--host", "0.0.0.0")
    assert result.exit_code == 0, result.output
    assert uvicorn_calls[0][1]["host"] == "0.0.0.0"


def test_mqtt_is_checked_and_needs_one_worker(uvicorn_calls: list[tuple[str, dict[str, Any]]],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("KG_API_KEYS", "abcdefghijklmnopqrstuvwxyz:write")
    monkeypatch.setenv("KG_MQTT_URL", "")  # recorded, so what `kg serve` sets is undone after the test
    monkeypatch.delenv("KG_MQTT_URL")
    two = run_kg("serve", "--mqtt", "mqtt://127.0.0.1:1883/city/status", "--workers", "2")
    assert two.exit_code == 1 and "--mqtt needs --workers 1" in two.stderr
    wrong = run_kg("serve", "--mqtt", "http://127.0.0.1:1883/city/status")
    assert wrong.exit_code == 1 and "KG_MQTT_URL: expected mqtt://HOST:PORT/PREFIX" in wrong.stderr
    assert uvicorn_calls == []
    ok = run_kg("serve", "--mqtt", "mqtt://127.0.0.1:1883/city/status")
    assert ok.exit_code == 0, ok.output
    assert os.environ["KG_MQTT_URL"] == "mqtt://127.0.0.1:1883/city/status"  # what the app subscribes to
