"""Chinese and English through gettext (Babel): every message of the code has a Chinese translation with the
same placeholders; the build's compiled catalog reads as the source does; the CLI and the API speak the
language asked for, English by default."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from api.main import create_app
from kg.i18n import LOCALE_DIR, accept_language, choose_language, compile_catalogs, language, translations
from tests.api.conftest import auth, settings_for
from tests.helpers import run_kg, write_files

ROOT = Path(__file__).resolve().parents[1]
PO = LOCALE_DIR / "zh" / "LC_MESSAGES" / "citykg.po"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "_l": None, "lazy_ngettext": (1, 2)}


def _code_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for folder in (ROOT / "kg", ROOT / "api"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                folder, method_map=[("static/**", "ignore"), ("**.py", "python")], keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else tuple(message))
    return found


def _catalog() -> dict[str | tuple[str, str], str | tuple[str, ...]]:
    with PO.open("rb") as stream:
        catalog = read_po(stream)
    assert not any(m.fuzzy for m in catalog if m.id), "fuzzy entries are not used; translate and unmark them"
    return {(m.id if isinstance(m.id, str) else tuple(m.id)): m.string for m in catalog if m.id}


def test_every_message_of_the_code_has_a_chinese_translation() -> None:
    catalog = _catalog()
    missing = sorted(map(str, _code_messages() - catalog.keys()))
    assert not missing, f"messages without a zh translation (run pybabel update, see {PO.name}): {missing}"
    empty = sorted(str(k) for k, v in catalog.items() if not (v if isinstance(v, str) else all(v)))
    assert not empty, f"untranslated: {empty}"


def test_translations_keep_the_placeholders() -> None:
    for key, value in _catalog().items():
        source = key if isinstance(key, str) else key[1]
        target = value if isinstance(value, str) else value[0]
        assert set(re.findall(r"\{(\w+)\}", source)) == set(re.findall(r"\{(\w+)\}", target)), key


def test_the_builds_compiled_catalog_reads_as_the_source(tmp_path: Path) -> None:
    (mo,) = compile_catalogs(LOCALE_DIR, tmp_path)
    with mo.open("rb") as stream:
        built = gettext.GNUTranslations(stream)
    source = translations("zh")
    for key in _catalog():
        if isinstance(key, str):
            assert built.gettext(key) == source.gettext(key) != key or key == ", "
        else:
            assert built.ngettext(*key, 2) == source.ngettext(*key, 2)


@pytest.mark.parametrize(("option", "env", "expected"), [
    (None, {}, "en"), (None, {"LANG": "zh_CN.UTF-8"}, "zh"), (None, {"LANG": "C.UTF-8"}, "en"),
    (None, {"LANG": "fr_FR.UTF-8"}, "en"), (None, {"KG_LANG": "zh", "LANG": "en_US.UTF-8"}, "zh"),
    ("en", {"KG_LANG": "zh"}, "en"), ("zh-CN", {}, "zh"), (None, {"LC_ALL": "zh_TW.UTF-8", "LANG": "en"}, "zh"),
])
def test_the_cli_language_comes_from_lang_kg_lang_then_the_locale(option: str | None, env: dict[str, str],
                                                                  expected: str) -> None:
    assert choose_language(option, env) == expected


def test_accept_language_picks_the_first_we_speak_by_weight() -> None:
    assert accept_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert accept_language("fr, en;q=0.5, zh;q=0.7") == "zh"
    assert accept_language("fr") == accept_language(None) == "en"


BUNDLE = {
    "regions.csv": "id,level,name,parent\ncq,city,Chongqing,\nyz,district,Yuzhong 渝中区,cq\n",
    "agencies.csv": "id,name\ngrid,State Grid\nhealth,Health Commission\n",
    "assets.csv": "id,type,name,region,agency\nsub,Substation,Sub,yz,grid\nhosp,Hospital,Hosp,yz,health\n",
    "dependencies.csv": "dependent,provider,kind,buffer_hours\nhosp,sub,power,2\n",
}


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kg.db'}"
    result = run_kg("load", str(write_files(tmp_path / "b", BUNDLE)), "--store", url, "--quiet")
    assert result.exit_code == 0, result.stderr
    return url


def test_kg_cascade_lang_zh_briefs_in_chinese(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    english = run_kg("cascade", "--fail", "sub", "--store", store).stdout
    assert english.startswith("Situation (no horizon): 2 assets fail, 0 people affected, 2 agencies and 1 district "
                              "involved.\nInitial failure: sub (Substation) at 00:00\n")
    chinese = run_kg("cascade", "--fail", "sub", "--store", store, "--lang", "zh").stdout
    assert chinese.startswith("态势 (不限时长): 2 项资产失效，影响 0 人，涉及 2 个部门、1 个区县。\n"
                              "初始故障: sub（变电站）于 00:00\n")
    for heading in ("须率先行动的部门", "须协同的部门", "逐小时时间线", "各区县影响", "1 变电站", "1 医院"):
        assert heading in chinese
    for english_word in ("Situation", "Who must act", "Timeline", "Impact by", "Substation", "Hospital"):
        assert english_word not in chinese
    monkeypatch.setenv("KG_LANG", "zh")
    assert run_kg("cascade", "--fail", "sub", "--store", store).stdout == chinese
    assert run_kg("--lang", "en", "cascade", "--fail", "sub", "--store", store).stdout == english


def test_errors_and_other_outputs_in_chinese(store: str, tmp_path: Path) -> None:
    bad = run_kg("cascade", "--fail", "sub", "--store", store, "--lang", "fr")
    assert bad.exit_code == 1 and "--lang 'fr': expected one of en, zh" in bad.stderr
    missing = run_kg("stats", "--store", f"sqlite:///{tmp_path / 'none.db'}", "--lang", "zh")
    assert missing.exit_code == 1 and missing.stderr.startswith("错误：")
    found = run_kg("find", "渝中", "--store", store, "--lang", "zh").stdout
    assert "编号" in found and "变电站" in found and "2 项资产与 '渝中' 匹配。" in found
    loaded = run_kg("load", str(write_files(tmp_path / "more", {"assets.csv": "id,type,region\nx,School,yz\n"})),
                    "--store", store, "--lang", "zh", "--quiet")
    assert loaded.stdout.startswith(f"已将 1 项资产 载入 {store}（版本 2）。"), loaded.stdout


def test_api_problem_titles_and_fixed_details_follow_accept_language(tmp_path: Path, store: str) -> None:
    with TestClient(create_app(settings_for(store))) as client:
        key = auth("read")
        zh = client.get("/v1/assets/nowhere", headers={**key, "Accept-Language": "zh-CN,zh;q=0.9"}).json()
        en = client.get("/v1/assets/nowhere", headers=key).json()
        assert (zh["title"], en["title"]) == ("未找到", "Not found") and zh["status"] == en["status"] == 404
        route = client.get("/v1/no-such-route", headers={**key, "Accept-Language": "zh"}).json()
        assert route["detail"] == "没有路由 /v1/no-such-route；接口列表见 /docs"
        with language("en"):  # the server's answers never change the caller's language
            assert client.get("/v1/assets/nowhere", headers=key).json()["title"] == "Not found"
