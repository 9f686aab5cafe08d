"""Chinese in bundles and in search: labels name classes, kinds, hazards and levels; ``kg find`` finds by them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.store import open_store
from tests.helpers import run_kg, write_files

BUNDLE = {
    "regions.csv": "id,level,name,name_zh,parent\ncq,市,Chongqing,重庆市,\nyz,区县,Yuzhong,渝中区,cq\n"
                   "jb,district,Jiangbei,江北区,cq\n",
    "agencies.csv": "id,name,name_zh,level\ngrid,State Grid Chongqing,国网重庆电力,city\n",
    "assets.csv": "id,type,name,name_zh,region,agency\nplant,发电厂,Luohuang plant,珞璜电厂,jb,grid\n"
                  "sub,变电站,Jiefangbei,解放碑变电站,yz,grid\nhosp,医院,Southwest Hospital,西南医院,yz,\n"
                  "feeder,distribution feeder,,,yz,grid\n",
    "dependencies.csv": "dependent,provider,kind\nsub,plant,电力\nhosp,sub,power\nfeeder,sub,电力\n",
    "hazard_zones.csv": "id,hazard,name,region\nflood-yz,洪涝,Yuzhong flood,yz\n",
    "exposures.csv": "asset,zone,intensity\nsub,flood-yz,2\n",
    "fragilities.csv": "hazard,threshold,type\n洪涝,1.0,变电站\n",
}


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kg.db'}"
    result = run_kg("load", str(write_files(tmp_path / "zh", BUNDLE)), "--store", url, "--quiet")
    assert result.exit_code == 0, result.stderr
    return url


def test_chinese_labels_load_as_the_ontology_names(store_url: str) -> None:
    store = open_store(store_url)
    try:
        assert {a: store.get(a)["type"] for a in ("plant", "sub", "hosp", "feeder")} == {
            "plant": "PowerPlant", "sub": "Substation", "hosp": "Hospital", "feeder": "DistributionFeeder"}
        assert (store.get("cq")["level"], store.get("yz")["level"]) == ("city", "district")
        assert store.get("flood-yz")["hazard"] == "Flood"
        deps = list(store.rows("dependencies"))
        assert {(d[0], d[2], d[3]) for d in deps} == {("sub", "power", "power"), ("hosp", "power", "power"),
                                                       ("feeder", "power", "power")}
        assert [r[:3] for r in store.rows("fragilities")] == [("Flood", 1.0, "Substation")]
        assert store.get("sub")["props"] == {"name_zh": "解放碑变电站"}
    finally:
        store.close()


def test_a_chinese_label_that_names_nothing_is_one_clear_error(tmp_path: Path) -> None:
    bundle = write_files(tmp_path / "bad", {**BUNDLE, "assets.csv": "id,type,region\nx,变压站,yz\n"})
    result = run_kg("load", str(bundle), "--store", f"sqlite:///{tmp_path / 'bad.db'}", "--quiet")
    assert result.exit_code == 1
    assert "assets.csv:2" in result.stderr and "'变压站'" in result.stderr and "变电站" in result.stderr


@pytest.mark.parametrize(("words", "ids"), [
    (["医院"], ["hosp"]), (["变电站"], ["sub"]), (["渝中"], ["feeder", "hosp", "sub"]),
    (["Yuzhong"], ["feeder", "hosp", "sub"]), (["渝中", "电力"], ["feeder", "sub"]),
    (["国网"], ["feeder", "plant", "sub"]),
    (["西南"], ["hosp"]), (["substation"], ["sub"]), (["江北"], ["plant"]), (["没有"], []),
])
def test_kg_find_in_chinese_and_english(store_url: str, words: list[str], ids: list[str]) -> None:
    result = run_kg("find", *words, "--store", store_url, "--format", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert [a["id"] for a in answer["data"]] == ids and answer["count"] == len(ids) and answer["next"] is None


def test_kg_find_text_pages_and_names_both_languages(store_url: str) -> None:
    result = run_kg("find", "渝中", "--limit", "2", "--store", store_url)
    assert result.exit_code == 0, result.stderr
    assert "Hospital" in result.stdout and "Southwest Hospital / 西南医院" in result.stdout
    assert "2 assets match '渝中'; more after hosp (--after hosp)." in result.stdout
    rest = json.loads(run_kg("find", "渝中", "--after", "hosp", "--store", store_url, "--format", "json").stdout)
    assert [a["id"] for a in rest["data"]] == ["sub"]
    typed = json.loads(run_kg("find", "yz", "--type", "变电站", "--store", store_url, "--format", "json").stdout)
    assert [a["id"] for a in typed["data"]] == ["sub"]


def test_the_chinese_name_is_tagged_zh_in_rdf_and_loads_back(store_url: str, tmp_path: Path) -> None:
    ttl = tmp_path / "city.ttl"
    assert run_kg("export", "--rdf", "ttl", "--store", store_url, "-o", str(ttl)).exit_code == 0
    assert 'ckg:prop_name_zh "解放碑变电站"@zh' in ttl.read_text(encoding="utf-8")
    again = f"sqlite:///{tmp_path / 'again.db'}"
    assert run_kg("load", str(ttl), "--store", again, "--quiet").exit_code == 0
    first, second = open_store(store_url), open_store(again)
    try:
        assert [second.get(i) for i in ("sub", "yz", "grid")] == [first.get(i) for i in ("sub", "yz", "grid")]
    finally:
        first.close()
        second.close()


def test_shacl_allows_one_chinese_name(tmp_path: Path) -> None:
    head = ("@prefix ckg: <https://w3id.org/citykg#> .\n@prefix id: <https://w3id.org/citykg/id/> .\n"
            'id:cq a ckg:Region ; ckg:id "cq" ; ckg:level ckg:level_city ; ckg:prop_name_zh ')
    good, bad = tmp_path / "good.ttl", tmp_path / "bad.ttl"
    good.write_text(head + '"重庆市"@zh .\n', encoding="utf-8")
    bad.write_text(head + '"重庆"@zh, "重庆市"@zh .\n', encoding="utf-8")
    for engine in ("fast", "pyshacl"):
        assert run_kg("validate", str(good), "--engine", engine).exit_code == 0
        result = run_kg("validate", str(bad), "--engine", engine)
        assert result.exit_code == 1 and "ckg:prop_name_zh (the Chinese name): at most one" in result.stdout + \
            result.stderr
