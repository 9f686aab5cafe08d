"""Settings: keys parsed and checked, refused without keys, no key ever in a message."""

from __future__ import annotations

import pytest

from kg.settings import Role, Settings, SettingsError, load_settings, parse_api_keys

GOOD = "abcdefghijklmnop"


def test_keys_and_roles() -> None:
    keys = parse_api_keys(f" {GOOD}:read , {GOOD.upper()}:admin ,")
    assert keys == {GOOD: Role.read, GOOD.upper(): Role.admin}
    assert Role.read < Role.write < Role.admin


def test_a_colon_inside_a_key_is_kept() -> None:
    assert parse_api_keys(f"{GOOD}:x:write") == {f"{GOOD}:x": Role.write}


@pytest.mark.parametrize(("text", "message"), [
    (f"{GOOD}", "entry 1: expected KEY:ROLE"),
    (f"{GOOD}:root", "entry 1: unknown role 'root'"),
    ("shortkey:read", "entry 1: the key is 8 characters long"),
    (f"{GOOD}:read,{GOOD}:write", "entry 2: the same key appears twice"),
    (f"{GOOD} x:read", "entry 1: the key may only hold printable ASCII"),
])
def test_bad_keys_are_refused_without_showing_them(text: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_API_KEYS", text)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith("KG_API_KEYS: " + message)
    assert GOOD not in str(info.value)


def test_no_keys_refuses_to_start_unless_insecure_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KG_API_KEYS", raising=False)
    monkeypatch.delenv("KG_INSECURE_DEV", raising=False)
    with pytest.raises(SettingsError, match="no API keys: set KG_API_KEYS"):
        load_settings()
    monkeypatch.setenv("KG_INSECURE_DEV", "1")
    assert load_settings().auth_disabled


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_API_KEYS", f"{GOOD}:read")
    monkeypatch.setenv("KG_MAX_DEPTH", "7")
    monkeypatch.setenv("KG_STORE", "sqlite:///x.db")
    s = load_settings()
    assert (s.max_depth, s.store) == (7, "sqlite:///x.db")
    monkeypatch.setenv("KG_MAX_DEPTH", "0")
    with pytest.raises(SettingsError, match="KG_MAX_DEPTH"):
        load_settings()


def test_repr_hides_keys() -> None:
    assert GOOD not in repr(Settings(api_keys=f"{GOOD}:read"))
