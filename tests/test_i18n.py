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
from kg.live.events import FIELDS
from kg.live.ngsi import NgsiRule
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


# ----------------------------------------------------------------------------- everything people read, in Chinese
CITY = {
    "regions.csv": "id,level,name,parent\ncq,city,Chongqing,\nyz,district,Yuzhong 渝中区,cq\n",
    "agencies.csv": "id,name,crews\ngrid,State Grid,2\nhealth,Health Commission,1\n",
    "assets.csv": "id,type,name,region,agency,population\nsub,Substation,Sub,yz,grid,0\n"
                  "pump,PumpingStation,Pump,yz,grid,0\nhosp,Hospital,Hosp,yz,health,5000\n",
    "dependencies.csv": "dependent,provider,kind,buffer_hours\nhosp,sub,power,2\npump,sub,power,\nhosp,pump,water,\n",
    "hazard_zones.csv": "id,hazard\nflood-yz,Flood\n",
    "exposures.csv": "asset,zone,intensity\nsub,flood-yz,1.2\n",
    "fragilities.csv": "hazard,threshold,type,beta\nFlood,1.0,Substation,0.3\n",
}
CANDIDATES = ('[{"id": "buffer-hosp", "cost": 1, "edits": [{"op": "add_buffer", "asset": "hosp", "kind": "power", '
              '"hours": 48}]}]')
EDITS = '[{"op": "add_buffer", "asset": "hosp", "kind": "power", "hours": 48}]'


def _allowed_words(*data: str) -> set[str]:
    """The Latin words a Chinese output may hold: those the Chinese catalog keeps (options, formats) and the data's
    (the bundle's, and ``data``: the store's URL)."""
    words = set()
    for value in _catalog().values():
        for text in ([value] if isinstance(value, str) else value):
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+", text))
    for text in (*CITY.values(), *data):
        words.update(w.lower() for w in re.findall(r"[A-Za-z]+", text))
    return words


def _english_left(output: str, allowed: set[str]) -> list[str]:
    """Lines of ``output`` holding a Latin word that neither a Chinese message nor the data gives."""
    return [line for line in output.splitlines()
            if any(w.lower() not in allowed for w in re.findall(r"[A-Za-z]{2,}", line))]


@pytest.fixture
def city(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'city.db'}"
    result = run_kg("load", str(write_files(tmp_path / "city", CITY)), "--store", url, "--quiet")
    assert result.exit_code == 0, result.stderr
    files = write_files(tmp_path / "inputs", {"candidates.json": CANDIDATES, "edits.json": EDITS})
    return url, files


COMMANDS = [
    ("criticality",), ("criticality", "--by", "district"), ("dependents", "sub"), ("dependencies", "hosp"),
    ("paths", "sub", "hosp"), ("paths", "hosp", "sub"), ("spof", "hosp"), ("spof", "sub"),
    ("cascade", "--hazard", "flood-yz", "--samples", "20"), ("cascade", "--fail", "sub@1", "--horizon", "12"),
    ("whatif", "--fail", "sub", "--edits", "{inputs}/edits.json"),
    ("plan", "--candidates", "{inputs}/candidates.json", "--budget", "5", "--n-1", "Substation"),
    ("restore", "--fail", "sub", "--fail", "pump"), ("robustness", "--steps", "4"), ("stats",), ("live",), ("status",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_text_output_in_chinese_leaves_no_english_sentence(city: tuple[str, Path], command: tuple[str, ...]) -> None:
    url, inputs = city
    args = [a.replace("{inputs}", str(inputs)) for a in command]
    english = run_kg(*args, "--store", url)
    chinese = run_kg(*args, "--store", url, "--lang", "zh")
    assert english.exit_code == chinese.exit_code == 0, chinese.stderr
    assert chinese.stdout.strip() and chinese.stdout != english.stdout
    assert not _english_left(chinese.stdout, _allowed_words(url)), chinese.stdout
    # the data stays the data: every id the English output names, the Chinese names too
    for asset in ("sub", "pump", "hosp"):
        assert (asset in english.stdout) == (asset in chinese.stdout), asset


BAD_ROWS = {
    "regions.csv": "id,level,name,parent\ncq,city,Chongqing,\nyz,district,Yuzhong,cq\n",
    "assets.csv": "id,type,name,region,lat\nsub,Substaton,Sub,yz,31\nhosp,Hospital,Hosp,yz,95\n",
    "dependencies.csv": "dependent,provider,kind\nhosp,sub,power,extra\n",
}
BAD_REFERENCES = {
    "regions.csv": "id,level,name,parent\ncq,city,Chongqing,\nyz,district,Yuzhong,cq\n",
    "agencies.csv": "id,name\ngrid,State Grid\n",
    "assets.csv": "id,type,name,region,agency\nsub,Substation,Sub,grid,grid\npump,PumpingStation,Pump,nowhere,yz\n",
}


@pytest.mark.parametrize(("bundle", "quoted", "said"), [
    (BAD_ROWS, ("'Substaton'", "'Substation'", "'type'", "'lat'", "'95'"), ("未知的资产类型", "应为", "字段太多")),
    (BAD_REFERENCES, ("'grid'", "'nowhere'", "'yz'", "region", "agency"), ("不存在", "区域", "部门", "应为")),
], ids=["rows", "references"])
def test_a_bad_bundle_is_refused_in_chinese_with_the_same_file_lines(tmp_path: Path, bundle: dict[str, str],
                                                                     quoted: tuple[str, ...],
                                                                     said: tuple[str, ...]) -> None:
    folder = write_files(tmp_path / "bad", bundle)
    url = f"sqlite:///{tmp_path / 'kg.db'}"
    english = run_kg("load", str(folder), "--store", url, "--quiet")
    chinese = run_kg("load", str(folder), "--store", url, "--quiet", "--lang", "zh")
    assert english.exit_code == chinese.exit_code == 1
    assert english.stderr.startswith("error: nothing was loaded: ")
    assert chinese.stderr.startswith("错误： 未载入任何数据：发现 ")
    en_lines, zh_lines = english.stderr.splitlines()[1:], chinese.stderr.splitlines()[1:]
    assert len(en_lines) == len(zh_lines) >= 2
    for en, zh in zip(en_lines, zh_lines, strict=True):
        where = en.split(": ", 1)[0]
        assert re.fullmatch(r".+\.csv:\d+", where) and zh.startswith(where + ": "), (en, zh)
        assert en != zh
    text = "\n".join(line.split(": ", 1)[1] for line in zh_lines)
    for value in quoted:
        assert value in text  # the data the messages quote is kept as given
    for words in said:
        assert words in text
    assert not _english_left(text, _allowed_words(*bundle.values())), text


def test_api_4xx_details_follow_accept_language(tmp_path: Path, store: str) -> None:
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    bundle = b'{"file": "assets", "id": "x", "type": "Substaton", "region": "yz"}\n{"file": "regions"}\n'
    with TestClient(create_app(settings_for(store))) as client:
        key = auth("write")
        missing = client.get("/v1/assets/nowhere", headers={**key, **zh}).json()
        assert missing["detail"] == "没有编号为 'nowhere' 的资产"
        english = client.get("/v1/assets/nowhere", headers=key).json()
        assert english["detail"] == "no asset with id 'nowhere'"
        deep = client.get("/v1/assets/sub/dependents", params={"depth": 0}, headers={**key, **zh}).json()
        assert deep["status"] == 422 and deep["field"] == "depth" and "输入应大于或等于 1" in deep["detail"], deep
        loaded = client.post("/v1/loads", content=bundle, headers={**key, **zh, "content-type": "application/x-ndjson"})
        body = loaded.json()
        count = len(body["errors"])
        assert loaded.status_code == 422 and body["detail"] == f"未载入任何数据：发现 {count} 个问题", body
        fields = [e["field"] for e in body["errors"]]
        assert count >= 2 and all(re.fullmatch(r".+\.jsonl:[12]", f) for f in fields), fields
        assert "未知的资产类型 'Substaton'" in body["errors"][0]["message"]
        assert all(re.search("[\u4e00-\u9fff]", e["message"]) for e in body["errors"]), body["errors"]
        again = client.post("/v1/loads", content=bundle, headers={**key, "content-type": "application/x-ndjson"})
        assert again.json()["detail"] == f"nothing was loaded: {count} problems found"
        assert [e["field"] for e in again.json()["errors"]] == fields
        assert again.json()["errors"][0]["message"].startswith("column 'type': unknown asset type 'Substaton'")


# ----------------------------------------------------------------------------- RDF, live events, settings and engines
_TTL_HEAD = ("@prefix ckg: <https://w3id.org/citykg#> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
             "@prefix id: <https://data.citykg.example/id/> .\n")


def _same_places_other_words(english: str, chinese: str) -> list[tuple[str, str]]:
    """The problem lines of a refused load in both languages, checked to name the same places (FILE:LINE[:COL] and
    the focus node) in the same order, each line saying something else."""
    en_lines, zh_lines = english.splitlines()[1:], chinese.splitlines()[1:]
    assert len(en_lines) == len(zh_lines) >= 1, (english, chinese)
    for en, zh in zip(en_lines, zh_lines, strict=True):
        where = en.split(": ", 1)[0]
        assert zh.startswith(where + ": ") and en != zh, (en, zh)
    return list(zip(en_lines, zh_lines, strict=True))


@pytest.mark.parametrize(("name", "content", "said"), [
    ("odd.ttl", _TTL_HEAD + 'id:S9 a ckg:Substation ; ckg:id "S9" ; ckg:colour "red" .\n'
                            'id:H9 a ckg:Hospital ; ckg:id "H9" ; ckg:dependsOn id:S9 .\n',
     ("未知属性 ckg:colour：不是 assets 的属性", "没有对应的 ckg:Dependency 节点")),
    ("shapes.ttl", _TTL_HEAD + 'id:H9 a ckg:Hospital ; ckg:id "H9" .\n'
                               'id:d1 a ckg:Dependency ; ckg:dependent id:H9 ; ckg:provider id:nowhere ;\n'
                               '    ckg:kind ckg:kind_power ; ckg:group "power" .\n',
     ("；实为 <https://data.citykg.example/id/nowhere>",)),
    ("prefix.ttl", '<urn:a> undeclared:p "a" .\n',
     ("Turtle 语法错误：未声明的前缀 'undeclared:'", "；应为 Turtle 1.1")),
    ("broken.nt", '<urn:a> <urn:p> "a" .\n<urn:a> <urn:p> "unterminated .\n', ("语法错误", "应为 N-Triples（每行一个")),
    ("broken.jsonld", '{"@graph": [\n  {"@id": "urn:a",}\n]}\n', ("JSON 语法错误：",)),
    ("remote.jsonld", '{"@context": "https://example.org/context.jsonld",\n "@id": "urn:a"}\n',
     ("JSON-LD 错误：上下文", "从不下载上下文")),
    ("entity.rdf", '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF SYSTEM "http://example.org/x.dtd">\n<rdf:RDF/>\n',
     ("RDF/XML 实体被拒绝：DOCTYPE 指向外部 DTD",)),
], ids=["convert", "shacl", "turtle", "ntriples", "json", "jsonld-context", "rdfxml-entity"])
def test_a_bad_rdf_file_is_refused_in_chinese_at_the_same_places(tmp_path: Path, name: str, content: str,
                                                                 said: tuple[str, ...]) -> None:
    bad = write_files(tmp_path / "rdf", {name: content}) / name
    url = f"sqlite:///{tmp_path / 'kg.db'}"
    english = run_kg("load", str(bad), "--store", url, "--quiet")
    chinese = run_kg("load", str(bad), "--store", url, "--quiet", "--lang", "zh")
    assert english.exit_code == chinese.exit_code == 1 and chinese.stderr.startswith("错误： 未载入任何数据")
    lines = _same_places_other_words(english.stderr, chinese.stderr)
    assert all(zh.startswith(str(bad)) for _en, zh in lines)
    text = "\n".join(zh for _en, zh in lines)
    for words in said:
        assert words in text, text


RULE = NgsiRule()


def test_bad_events_are_refused_in_chinese_at_the_same_json_paths(store: str) -> None:
    zh = {"Accept-Language": "zh"}
    events = {"events": [{"id": "e1", "asset": "sub", "status": "down", "time": "2026-07-01T08:00:00+08:00"},
                         {"id": "e2", "asset": "nowhere", "status": "gone", "time": "2026-07-01T08:00:00"},
                         {"id": "e3", "asset": "sub", "status": "up", "time": "2026-07-01T09:00:00Z", "colour": 1}]}
    ngsi = {"subscriptionId": "s", "data": [{"id": "urn:ngsi-ld:Asset:sub", "status": {"value": "maybe"}}, 7]}
    with TestClient(create_app(settings_for(store))) as client:
        key = {**auth("write"), **zh}
        for path, body in (("/v1/events", events), ("/v1/ngsi-ld/notify", ngsi)):
            chinese = client.post(path, json=body, headers=key).json()
            english = client.post(path, json=body, headers=auth("write")).json()
            assert chinese["status"] == english["status"] == 422
            assert [e["field"] for e in chinese["errors"]] == [e["field"] for e in english["errors"]]
            assert len(chinese["errors"]) >= 2, chinese
            for zh_error, en_error in zip(chinese["errors"], english["errors"], strict=True):
                assert re.search("[\u4e00-\u9fff]", zh_error["message"]), zh_error
                assert zh_error["message"] != en_error["message"]
                # field names and the rule's status values are data too
                allowed = _allowed_words(*map(str, body.values()), *FIELDS, *RULE.down_values, *RULE.up_values)
                assert not _english_left(zh_error["message"], allowed), zh_error
        said = {e["field"]: e["message"] for e in client.post("/v1/events", json=events, headers=key).json()["errors"]}
        assert said["events[1].status"] == "应为 'down' 或 'up'，实为 'gone'"
        assert said["events[1].time"].endswith("实为 '2026-07-01T08:00:00'（缺少偏移）")
        assert said["events[2].colour"].startswith("未知字段；")
        unknown = {"events": [{"id": "e9", "asset": "nowhere", "status": "down", "time": "2026-07-01T08:00:00Z"}]}
        missing = client.post("/v1/events", json=unknown, headers=key).json()
        assert missing["field"] == "events[0].asset"
        assert missing["errors"][0]["message"] == "图中没有编号为 'nowhere' 的资产"


def test_kg_events_load_refuses_in_chinese_at_the_same_file_lines(store: str, tmp_path: Path) -> None:
    files = write_files(tmp_path / "ev", {
        "bad.csv": "id,asset,status,time\ne1,sub,down,2026-07-01T08:00:00+08:00\ne2,nowhere,gone,yesterday\n",
        "bad.jsonl": '{"id": "e1", "asset": "sub", "status": "down", "time": "2026-07-01T08:00:00Z"}\n{"id": \n',
        "short.csv": "id,asset\ne1,sub\n"})
    for name, said in (("bad.csv", ("status：应为 'down' 或 'up'", "time：应为带 UTC 偏移的 ISO 8601 时间")),
                       ("bad.jsonl", ("不是 JSON 对象：",)), ("short.csv", ("缺少列 status, time；表头应为 ",))):
        english = run_kg("events", "load", str(files / name), "--store", store)
        chinese = run_kg("events", "load", str(files / name), "--store", store, "--lang", "zh")
        assert english.exit_code == chinese.exit_code == 1, chinese.stderr
        en_lines = [line for line in english.stderr.splitlines() if line.startswith(str(files))]
        zh_lines = [line for line in chinese.stderr.splitlines() if line.startswith(str(files))]
        assert len(en_lines) == len(zh_lines) >= 1, (english.stderr, chinese.stderr)
        for en, zh in zip(en_lines, zh_lines, strict=True):
            assert zh.startswith(en.split(": ", 1)[0] + ": ") and en != zh, (en, zh)
        for words in said:
            assert words in chinese.stderr, chinese.stderr


def test_settings_errors_and_engine_checks_in_chinese(monkeypatch: pytest.MonkeyPatch, store: str) -> None:
    monkeypatch.setenv("KG_STORE", store)  # kg serve --store sets it; monkeypatch restores it afterwards
    monkeypatch.setenv("KG_API_KEYS", "short:read")
    monkeypatch.setenv("KG_NGSI_ID_PATTERN", "(")
    english = run_kg("serve", "--store", store)
    chinese = run_kg("serve", "--store", store, "--lang", "zh")
    assert english.exit_code == chinese.exit_code == 1
    assert english.stderr.startswith("error: KG_API_KEYS: entry 1: the key is 5 characters long; use at least 16")
    assert "; KG_NGSI_ID_PATTERN: not a regular expression: " in english.stderr
    assert chinese.stderr.startswith("错误： KG_API_KEYS：第 1 项：密钥长 5 个字符；至少应为 16 个"), chinese.stderr
    assert "; KG_NGSI_ID_PATTERN：不是正则表达式：" in chinese.stderr and "short" not in chinese.stderr
    from kg.analysis.cascade import cascade
    from kg.analysis.hazards import monte_carlo
    from kg.errors import ValidationError
    from kg.store import open_store

    opened = open_store(store)
    try:
        snap = opened.snapshot()
    finally:
        opened.close()
    for run, field in ((lambda: cascade(snap, [("sub", 0.0)], horizon=-1.0), "horizon"),
                       (lambda: monte_carlo(snap, ["nowhere"], samples=0), "samples")):
        with pytest.raises(ValidationError) as caught:
            run()
        (problem,) = caught.value.problems
        assert problem.where == field and problem.text.english().startswith("must be ")  # type: ignore[union-attr]
        with language("zh"):
            assert problem.message.startswith(("必须是", "至少为")), problem.message


@pytest.mark.parametrize(("url", "said"), [
    ("sqlite:///{tmp}/none.db", "处没有 CityKG 存储：无可读取的数据"),
    ("sqlite:///{tmp}", "是文件夹，不是 SQLite 存储文件"),
    ("citykg.db", "没有协议；应为 sqlite:///FILE.db 或 bolt://HOST:PORT"),
    ("postgres://db/x", "未知协议 'postgres'"),
], ids=["missing", "folder", "no-scheme", "scheme"])
def test_store_errors_in_chinese(tmp_path: Path, url: str, said: str) -> None:
    url = url.replace("{tmp}", str(tmp_path))
    english = run_kg("stats", "--store", url)
    chinese = run_kg("stats", "--store", url, "--lang", "zh")
    assert english.exit_code == chinese.exit_code == 1
    assert english.stderr.startswith("error: ") and chinese.stderr.startswith("错误： ")
    allowed = _allowed_words(url, "neo4j+ssc bolt+ssc")  # the schemes are names
    assert said in chinese.stderr and not _english_left(chinese.stderr, allowed), chinese.stderr


def test_kg_demo_tours_in_chinese(tmp_path: Path) -> None:
    chinese = run_kg("demo", "--assets", "300", "--out", str(tmp_path / "zh"), "--lang", "zh")
    assert chinese.exit_code == 0, chinese.stderr
    for said in ("CityKG 演示 — 合成的重庆，共 300 项资产", "区县名称是真实的", "已把数据包写入",
                 "各区县、各行业的资产数", "运营资产最多的部门", "哪些资产依赖", "按跳数", "级联简报：最关键的变电站",
                 "接下来可以试试", "演示用时"):
        assert said in chinese.stdout, said
    for english in ("CityKG demo", "District names are real", "Wrote the bundle", "Loaded ", "by district and sector",
                    "Agencies operating", "What depends on", "by hops", "Cascade briefing", "try next",
                    "demo finished"):
        assert english not in chinese.stdout, english
