"""CityKG as an MCP server, through the SDK's own client: ``kg mcp`` over stdio, ``kg serve --mcp`` over HTTP.

Every answer is compared with the CLI's JSON on the demo city (``kg demo``); over
HTTP the API's keys, roles, time limit and logs are checked too. The Cypher tool's
refusals are compared with the API's on a real Neo4j in tests/test_assistants_cypher.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from kg.assistants.server import TOOLS
from tests.api.conftest import KEYS
from tests.helpers import run_async, run_kg

SUBSTATION = "s-00163"  # the README's substation and the issue's question
HOSPITAL = "h-06386"
SUBSTATION_OF_HOSPITAL = "s-00151"  # one of the substations the hospital depends on, two hops down
FLOOD = "flood-yuzhong-50y"
_KG = ["-c", "from kg.cli import main; main()"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The store of ``kg demo`` (the default city)."""
    out = tmp_path_factory.mktemp("demo") / "d"
    result = run_kg("demo", "--out", str(out), "--format", "json")
    assert result.exit_code == 0, result.stderr
    url: str = json.loads(result.stdout)["store"]
    return url


def cli(store: str, *args: str) -> Any:
    """``kg ARGS --store STORE --format json``, parsed."""
    result = run_kg(*args, "--store", store, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


Session = Callable[[str, dict[str, Any]], Awaitable[CallToolResult]]


def data(answer: CallToolResult) -> dict[str, Any]:
    """The JSON of a successful tool answer (the text and the structured content say the same)."""
    assert not answer.is_error, answer.content
    text = answer.content[0].text  # type: ignore[union-attr]
    parsed: dict[str, Any] = json.loads(text)
    assert parsed == answer.structured_content
    assert "\n" not in text and ", " not in text  # compact
    return parsed


def error(answer: CallToolResult) -> str:
    assert answer.is_error, answer.content
    return str(answer.content[0].text)  # type: ignore[union-attr]


@asynccontextmanager
async def stdio(store: str) -> AsyncIterator[Client]:
    params = StdioServerParameters(command=sys.executable, args=[*_KG, "mcp", "--store", store],
                                   cwd=str(Path(__file__).resolve().parents[1]))
    async with Client(params, read_timeout_seconds=120) as client:
        yield client


# ---------------------------------------------------------------- stdio: every tool, as the CLI answers
def test_stdio_tools_answer_as_the_cli_does(demo: str) -> None:
    async def session() -> dict[str, Any]:
        async with stdio(demo) as client:
            listed = (await client.list_tools()).tools
            answers = {"tools": listed}
            calls = {
                "dependents": {"asset_id": SUBSTATION, "limit": 25},
                "dependencies": {"asset_id": HOSPITAL, "kinds": ["power"], "limit": 1000},
                "single_points_of_failure": {"asset_id": HOSPITAL},
                "dependency_paths": {"provider": SUBSTATION_OF_HOSPITAL, "dependent": HOSPITAL, "k": 3},
                "cascade": {"fail": [{"id": SUBSTATION, "time": 8}], "limit": 1000},
                "hazard": {"hazard_zones": [FLOOD], "horizon_hours": 12, "limit": 10},
                "monte_carlo": {"hazard_zones": [FLOOD], "samples": 20, "seed": 3, "limit": 5},
                "criticality": {"top": 3, "by_district": True},
                "restoration_plan": {"hazard_zones": [FLOOD], "crews": {"yuzhong-power": 2}, "limit": 10},
                "search_assets": {"query": "Hospital", "limit": 5},
                "cypher": {"query": "MATCH (n) RETURN count(n)"},
            }
            for key, arguments in calls.items():
                answers[key] = await client.call_tool("cascade" if key in {"hazard", "monte_carlo"} else key,
                                                      arguments)
            return answers

    got = run_async(session)
    listed = {t.name: t for t in got["tools"]}
    assert set(listed) == set(TOOLS)
    for tool in listed.values():
        assert tool.input_schema["type"] == "object"
        description = tool.description or ""
        assert any("\u4e00" <= ch <= "\u9fff" for ch in description), tool.name  # Chinese ...
        assert any(ch.isascii() and ch.isalpha() for ch in description), tool.name  # ... and English

    dependents = data(got["dependents"])
    expected = cli(demo, "dependents", SUBSTATION)["dependents"]
    assert dependents["total"] == len(expected) > 25
    assert [(d["id"], d["type"], d["depth"]) for d in dependents["dependents"]] == \
        [(d["id"], d["type"], d["depth"]) for d in expected[:25]]
    assert dependents["by_type"] == dict(Counter(d["type"] for d in expected))
    assert "showing 25 of" in dependents["truncated"]

    dependencies = data(got["dependencies"])
    expected = cli(demo, "dependencies", HOSPITAL, "--kind", "power")["dependencies"]
    assert [d["id"] for d in dependencies["dependencies"]] == [d["id"] for d in expected]
    assert dependencies["truncated"] is None

    spof = data(got["single_points_of_failure"])
    assert [d["id"] for d in spof["single_points_of_failure"]] == \
        [d["id"] for d in cli(demo, "spof", HOSPITAL)["single_points_of_failure"]]

    chains = data(got["dependency_paths"])
    expected = cli(demo, "paths", SUBSTATION_OF_HOSPITAL, HOSPITAL, "--k", "3")
    assert chains["paths"] == expected["paths"] and chains["paths"]
    assert set(chains["names"]) == {a for chain in expected["paths"] for a in chain["assets"]}

    briefing = data(got["cascade"])
    expected = cli(demo, "cascade", "--fail", f"{SUBSTATION}@8")
    assert briefing["summary"] == expected["summary"]
    assert [(f["id"], f["time"], f["agency"]) for f in briefing["failures"]] == \
        [(f["id"], f["time"], f["agency"]) for f in expected["failures"]]
    agency_crossings = {(c["from"], c["to"]) for c in expected["crossings"] if c["boundary"] == "agency"}
    assert {(c["from"], c["to"]) for c in briefing["agencies_must_coordinate"]} == agency_crossings
    assert {a["agency"] for a in briefing["act_first"]} == {f["agency"] for f in expected["failures"]} - {None}

    hazard = data(got["hazard"])
    expected = cli(demo, "cascade", "--hazard", FLOOD, "--horizon", "12")
    assert hazard["summary"] == expected["summary"]
    assert [f["id"] for f in hazard["failures"]] == [f["id"] for f in expected["failures"][:10]]
    assert ("showing 10 of" in (hazard["truncated"] or "")) == (len(expected["failures"]) > 10)

    distribution = data(got["monte_carlo"])
    expected = cli(demo, "cascade", "--hazard", FLOOD, "--samples", "20", "--seed", "3")
    assert distribution["total"] == expected["total"] and len(distribution["districts"]) == len(expected["districts"])
    assert [(p["id"], p["probability"]) for p in distribution["most_likely_to_fail"]] == \
        [(p["id"], p["probability"]) for p in expected["probability"][:5]]

    plan = data(got["restoration_plan"])
    expected = cli(demo, "restore", "--hazard", FLOOD, "--crews", "yuzhong-power=2")
    assert plan["damaged"] == len(expected["damaged"]) > 10
    assert plan["unserved_people_hours"] == expected["unserved_people_hours"]
    assert plan["naive_unserved_people_hours"] == expected["naive"]["unserved_people_hours"]
    assert [(r["id"], r["crew"], r["start"], r["end"]) for r in plan["schedule"]] == \
        [(r["id"], r["crew"], r["start"], r["end"]) for r in expected["schedule"][:10]]
    assert plan["curve"][-1] == expected["curve"][-1] and "showing 10 of" in plan["truncated"]

    ranking = data(got["criticality"])
    expected = cli(demo, "criticality", "--top", "3", "--by", "district")
    assert [(a["id"], a["rank"], a["failed"], a["population"]) for a in ranking["assets"]] == \
        [(a["id"], a["rank"], a["failed"], a["population"]) for a in expected["assets"]]

    found = data(got["search_assets"])
    assert found["count"] == 5 and all("Hospital" in (a["type"] + (a["name"] or "")) for a in found["assets"])
    assert "more than 5" in found["truncated"]

    assert "Cypher needs a Neo4j store" in error(got["cypher"])  # as POST /v1/cypher answers on SQLite


EDITS = [{"op": "add_buffer", "asset": "c-06604", "kind": "power", "hours": 48},  # a clinic the substation feeds
         {"op": "remove_dependency", "dependent": "df-00973", "provider": SUBSTATION, "kind": "power"}]


def test_stdio_what_if_is_kg_whatif(demo: str, tmp_path: Path) -> None:
    async def session() -> tuple[CallToolResult, CallToolResult]:
        async with stdio(demo) as client:
            good = await client.call_tool("what_if", {"edits": EDITS, "fail": [{"id": SUBSTATION, "time": 8}],
                                                      "limit": 5})
            bad = await client.call_tool("what_if", {"edits": [{**EDITS[0], "asset": "c-0660"}],
                                                     "fail": [{"id": SUBSTATION}]})
            return good, bad

    good, bad = run_async(session)
    (tmp_path / "edits.json").write_text(json.dumps(EDITS), encoding="utf-8")
    expected = cli(demo, "whatif", "--edits", str(tmp_path / "edits.json"), "--fail", f"{SUBSTATION}@8")
    answer = data(good)
    assert answer["baseline"] == expected["baseline"]["summary"]
    assert answer["modified"] == expected["modified"]["summary"]
    assert answer["impact"] == expected["impact"]
    for name in ("saved", "new"):
        assert [c["id"] for c in answer[name]] == expected["changes"][name][:5]
    for name in ("delayed", "earlier"):
        assert [(c["id"], c["from"], c["to"]) for c in answer[name]] == \
            [(c["id"], c["from"], c["to"]) for c in expected["changes"][name][:5]]
    assert answer["counts"]["saved"] + answer["counts"]["delayed"] > 0
    assert "edits[0].asset" in error(bad) and "no asset with id 'c-0660'" in error(bad)


def test_stdio_bad_arguments_are_tool_errors_naming_the_field(demo: str) -> None:
    async def session() -> list[str]:
        async with stdio(demo) as client:
            texts = []
            for name, arguments in [
                ("dependents", {"asset_id": "s-0016"}),
                ("dependents", {"asset_id": SUBSTATION, "limit": "many"}),
                ("dependents", {"asset_id": SUBSTATION, "kinds": ["powr"]}),
                ("cascade", {"fail": [{"id": SUBSTATION, "time": -1}]}),
                ("cascade", {"fail": [{"id": SUBSTATION}], "hazard_zones": [FLOOD]}),
                ("cascade", {"hazard_zones": ["flood-nowhere"]}),
                ("search_assets", {"type": "Substaton"}),
                ("criticality", {"top": 0}),
                ("cascade", {"fail": [{"id": SUBSTATION}], "samples": 5}),
                ("restoration_plan", {"damaged": [SUBSTATION], "crews": {"no-such-agency": 1}}),
            ]:
                texts.append(error(await client.call_tool(name, arguments)))
            texts.append(str(len((await client.list_tools()).tools)))  # still serving
            return texts

    texts = run_async(session)
    fields = ["asset_id", "limit", "kinds[0]", "time", "fail", "hazard_zones[0]", "type", "top", "samples",
              "crews.no-such-agency"]
    for field, text in zip(fields, texts, strict=False):
        assert field in text, (field, text)
    assert "did you mean 'Substation'" in texts[6] and "did you mean 'power'" in texts[2]
    assert texts[-1] == str(len(TOOLS))


def test_stdio_resources_and_prompts(demo: str) -> None:
    async def session() -> tuple[Any, ...]:
        async with stdio(demo) as client:
            resources = (await client.list_resources()).resources
            ontology = await client.read_resource("citykg://ontology.ttl")
            model = await client.read_resource("citykg://data-model")
            cascade_doc = await client.read_resource("citykg://docs/cascade.md")
            prompts = (await client.list_prompts()).prompts
            zh = await client.get_prompt("brief_failure", {"asset_id": SUBSTATION, "hour": "8", "language": "zh"})
            en = await client.get_prompt("plan_restoration", {"asset_ids": f"{SUBSTATION},{HOSPITAL}"})
            return resources, ontology, model, cascade_doc, prompts, zh, en

    resources, ontology, model, cascade_doc, prompts, zh, en = run_async(session)
    uris = {str(r.uri) for r in resources}
    assert {"citykg://ontology.ttl", "citykg://data-model", "citykg://docs/assistants.md"} <= uris
    root = Path(__file__).resolve().parents[1]
    assert ontology.contents[0].text == (root / "ontology" / "citykg.ttl").read_text(encoding="utf-8")
    assert cascade_doc.contents[0].text == (root / "docs" / "cascade.md").read_text(encoding="utf-8")
    assert "buffer_hours" in model.contents[0].text
    assert {p.name for p in prompts} == {"brief_failure", "plan_restoration", "brief_live"}
    assert "应急指挥中心" in zh.messages[0].content.text and SUBSTATION in zh.messages[0].content.text
    assert "restoration" in en.messages[0].content.text and HOSPITAL in en.messages[0].content.text


def test_a_scripted_conversation_finds_the_cli_facts(demo: str) -> None:
    """"哪些设施依赖变电站 s-00163？如果它 8 点停电，谁需要协调？", as a model would call the tools."""
    async def conversation() -> list[dict[str, Any]]:
        async with stdio(demo) as client:
            found = data(await client.call_tool("search_assets", {"query": SUBSTATION, "limit": 5}))
            asset = found["assets"][0]["id"]
            who = data(await client.call_tool("dependents", {"asset_id": asset, "limit": 10}))
            outage = data(await client.call_tool("cascade", {"fail": [{"id": asset, "time": 8}], "limit": 200}))
            return [found, who, outage]

    found, who, outage = run_async(conversation)
    assert found["assets"][0]["id"] == SUBSTATION
    expected_dependents = cli(demo, "dependents", SUBSTATION)["dependents"]
    assert who["total"] == len(expected_dependents)
    assert who["population"] > 0 and who["dependents"][0]["id"] == expected_dependents[0]["id"]
    expected = cli(demo, "cascade", "--fail", f"{SUBSTATION}@8")
    assert outage["summary"] == expected["summary"]
    assert outage["initial"] == [{"id": SUBSTATION, "time": 8.0}]
    must_talk = {(c["from"], c["to"], c["first_contact"]) for c in outage["agencies_must_coordinate"]}
    assert {(a, b) for a, b, _ in must_talk} == \
        {(c["from"], c["to"]) for c in expected["crossings"] if c["boundary"] == "agency"}
    assert all(t >= 8 for _, _, t in must_talk)


# ---------------------------------------------------------------- HTTP: keys, roles, limits, logs
@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(store: str, tmp: Path, **settings: str) -> Iterator[Server]:
    """``kg serve --mcp`` on a free port with the test keys and ``KG_*`` settings."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env["KG_API_KEYS"] = ",".join(f"{key}:{role}" for role, key in KEYS.items())
    env.update({f"KG_{k.upper()}": v for k, v in settings.items()})
    log = tmp / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, *_KG, "serve", "--mcp", "--port", str(port), "--store", store],
                                   env=env, stdout=subprocess.DEVNULL, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start within 60 s"
            time.sleep(0.1)
        yield Server(url, process, log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@asynccontextmanager
async def http(server: Server, role: str | None) -> AsyncIterator[Client]:
    headers = {} if role is None else {"Authorization": f"Bearer {KEYS[role]}"}
    async with httpx2.AsyncClient(headers=headers, timeout=120) as transport, \
            Client(streamable_http_client(f"{server.url}/mcp", http_client=transport),
                   read_timeout_seconds=120) as client:
        yield client


def test_http_answers_behind_the_api_keys(demo: str, tmp_path: Path) -> None:
    with serving(demo, tmp_path) as server:
        async def session() -> tuple[Any, ...]:
            async with http(server, "read") as client:
                names = {t.name for t in (await client.list_tools()).tools}
                who = await client.call_tool("dependents", {"asset_id": SUBSTATION, "max_depth": 1, "limit": 1000})
                rows = await client.call_tool("sparql", {
                    "query": f"SELECT ?d WHERE {{ ?d ckg:dependsOn id:{SUBSTATION} }}", "limit": 1000})
                ranked = await client.call_tool("criticality", {"top": 3})  # the API's per-snapshot ranking
                return names, who, rows, ranked

        names, who, rows, ranked = run_async(session)
        no_key = httpx.post(f"{server.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                            headers={"Accept": "application/json, text/event-stream"})
        wrong_key = httpx.post(f"{server.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                               headers={"Authorization": "Bearer not-a-key-of-this-server"})
    assert names == {name for name, spec in TOOLS.items() if spec.role == "read"}
    direct = [d["id"] for d in cli(demo, "dependents", SUBSTATION, "--depth", "1")["dependents"]]
    assert [d["id"] for d in data(who)["dependents"]] == direct
    assert sorted(r["d"].rsplit("/", 1)[-1] for r in data(rows)["rows"]) == sorted(direct)
    assert [(a["id"], a["failed"]) for a in data(ranked)["assets"]] == \
        [(a["id"], a["failed"]) for a in cli(demo, "criticality", "--top", "3")["assets"]]
    for response in (no_key, wrong_key):
        assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"
    log = server.log.read_text()
    calls = [json.loads(line) for line in log.splitlines() if '"mcp_tool"' in line]
    assert [c["mcp_tool"] for c in calls] == ["dependents", "sparql", "criticality"]
    assert {c["outcome"] for c in calls} == {"ok"} and all(c["request_id"] and c["duration_ms"] > 0 for c in calls)
    assert len({c["key"] for c in calls}) == 1 and all(len(c["arguments"]) == 16 for c in calls)
    assert all(key not in log for key in KEYS.values()) and SUBSTATION not in log
    routes = [json.loads(line)["route"] for line in log.splitlines() if '"method"' in line]
    assert routes.count("/mcp") >= 4  # the requests' own lines, beside the calls' (the 401s included)


def test_http_calls_stop_at_the_request_time_limit(demo: str, tmp_path: Path) -> None:
    with serving(demo, tmp_path, request_timeout_s="0.05") as server:
        async def session() -> CallToolResult:
            async with http(server, "read") as client:
                return await client.call_tool("criticality", {"top": 5})

        text = error(run_async(session))
    assert "time limit of 0.05 s" in text
    outcome = [json.loads(line)["outcome"] for line in server.log.read_text().splitlines() if '"mcp_tool"' in line]
    assert outcome == ["error"]


# ---------------------------------------------------------------- live state: the one tool that writes
REPORT = {"id": "mcp-e1", "asset": SUBSTATION, "status": "down", "time": "2026-07-01T08:00:00+08:00",
          "source": "scada"}
AS_OF = "2026-07-01T09:30:00+08:00"


def _copy(store: str, tmp: Path) -> str:
    """A copy of the demo store (events are written into it)."""
    source = Path(store.removeprefix("sqlite:///"))
    target = tmp / "live.db"
    target.write_bytes(source.read_bytes())
    return f"sqlite:///{target}"


def test_stdio_live_picture_after_a_report_is_the_cli_picture(demo: str, tmp_path: Path) -> None:
    store = _copy(demo, tmp_path)

    async def session() -> tuple[CallToolResult, ...]:
        async with stdio(store) as client:
            recorded = await client.call_tool("report_status", {"events": [REPORT]})
            again = await client.call_tool("report_status", {"events": [REPORT]})
            bad = await client.call_tool("report_status", {"events": [{**REPORT, "id": "mcp-e2",
                                                                       "time": "2026-07-01T08:00:00"}]})
            picture = await client.call_tool("live_picture", {"as_of": AS_OF, "limit": 5})
            return recorded, again, bad, picture

    recorded, again, bad, picture = run_async(session)
    assert data(recorded) == {"accepted": 1, "duplicates": 0} and data(again) == {"accepted": 0, "duplicates": 1}
    assert "events[0].time" in error(bad) and "nothing was stored" in error(bad)
    live = data(picture)
    expected = cli(store, "live", "--as-of", AS_OF)
    assert [d["id"] for d in live["reported_down"]] == [d["id"] for d in expected["down"]] == [SUBSTATION]
    assert live["summary_with_forecast"] == expected["summary"]
    assert [(f["id"], f["at"], f["in_hours"]) for f in live["next_deadlines"]] == \
        [(f["id"], f["at"], f["in_hours"]) for f in expected["forecast"][:5]]
    assert live["down_now"] == len(expected["failures"]) - len(expected["forecast"])


def test_http_a_read_key_cannot_report_status(demo: str, tmp_path: Path) -> None:
    store = _copy(demo, tmp_path)
    with serving(store, tmp_path) as server:
        async def as_role(role: str) -> tuple[CallToolResult, CallToolResult]:
            async with http(server, role) as client:
                reported = await client.call_tool("report_status", {"events": [REPORT]})
                return reported, await client.call_tool("live_picture", {"as_of": AS_OF})

        refused, unchanged = run_async(as_role, "read")
        accepted, changed = run_async(as_role, "write")
    assert "needs a key with the write role" in error(refused)
    assert data(unchanged)["reported_down"] == []
    assert data(accepted) == {"accepted": 1, "duplicates": 0}
    assert [d["id"] for d in data(changed)["reported_down"]] == [SUBSTATION]
    calls = [json.loads(line) for line in server.log.read_text().splitlines() if '"mcp_tool"' in line]
    assert [(c["mcp_tool"], c["outcome"]) for c in calls] == [
        ("report_status", "refused"), ("live_picture", "ok"), ("report_status", "ok"), ("live_picture", "ok")]
    assert calls[0]["key"] != calls[2]["key"]  # the read key's digest, then the write key's
