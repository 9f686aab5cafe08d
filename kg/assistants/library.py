"""What an assistant may read (resources) and the conversations it is offered (prompts).

Resources: the ontology (Turtle), a short description of the data model, and
every page of the user documentation, all shipped in the package (the ontology
and docs folders are package data, read with :mod:`importlib.resources`).
Prompts: brief the command centre on a failure, and plan the restoration, each
in Chinese or English.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.resources import FunctionResource
from pydantic import Field

__all__ = ["DOC_PAGES", "add_prompts", "add_resources", "doc_pages"]

_DOCS = "docs_data"


def _read(*parts: str) -> str:
    return (resources.files("kg") / "/".join(parts)).read_text(encoding="utf-8")


def doc_pages() -> list[str]:
    """The documentation pages shipped with the package (``api.md``, ``cascade.md``, ...)."""
    folder = resources.files("kg") / _DOCS
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".md"))


DOC_PAGES = doc_pages()


def add_resources(server: MCPServer) -> None:
    """Register the ontology, the data-model text and the docs pages on ``server``."""
    server.add_resource(FunctionResource(
        uri="citykg://ontology.ttl", name="ontology", title="CityKG ontology (OWL, Turtle) / 本体",
        description="The vocabulary: asset, region, agency and hazard classes with English and Chinese labels, "
                    "relations and service kinds. 本体：类、关系与服务类型（中英文标签）。",
        mime_type="text/turtle", fn=lambda: _read("ontology_data", "citykg.ttl")))
    server.add_resource(FunctionResource(
        uri="citykg://data-model", name="data-model", title="Data model / 数据模型",
        description="A short description of the graph for a model's context: assets, regions, agencies, "
                    "dependencies and the cascade rules. 图谱与级联规则简介。",
        mime_type="text/markdown", fn=lambda: _read("assistants", "data-model.md")))
    for page in DOC_PAGES:
        server.add_resource(FunctionResource(
            uri=f"citykg://docs/{page}", name=f"docs/{page}", title=f"Docs: {page}",
            description=f"CityKG's user documentation, {page}.", mime_type="text/markdown",
            fn=lambda page=page: _read(_DOCS, page)))


Language = Annotated[Literal["en", "zh"], Field(description="en or zh: the language of the briefing. 语言。")]

_BRIEF = {
    "en": (
        "Brief the city's emergency command centre on this event: asset {asset_id} fails at hour {hour} "
        "(hour 0 is midnight of the day; 8 is 08:00).\n"
        "1. Call search_assets or dependents to confirm the asset and what depends on it.\n"
        "2. Call cascade with fail=[{{\"id\": \"{asset_id}\", \"time\": {hour}}}].\n"
        "3. Write the briefing from the tools' answers only: the situation (failures, people affected, "
        "districts, agencies), who must act first and by when, which departments must coordinate from when, "
        "the hardest-hit districts, and the key facilities (hospitals, water, telecom) in the timeline. Give "
        "ids and names as the tools return them; say when a list was cut. Do not invent numbers."
    ),
    "zh": (
        "请向城市应急指挥中心简报以下事件：设施 {asset_id} 在第 {hour} 小时失效（0 为当日零点，8 即 08:00）。\n"
        "1. 调用 search_assets 或 dependents 确认该设施及依赖它的设施。\n"
        "2. 调用 cascade，参数 fail=[{{\"id\": \"{asset_id}\", \"time\": {hour}}}]。\n"
        "3. 只依据工具返回的结果撰写简报：态势（失效数、受影响人口、涉及区县和单位）、最先须行动的单位及时限、"
        "须协调的部门及起始时间、受影响最重的区县、时间线中的关键设施（医院、供水、通信）。编号与名称照工具所给；"
        "列表被截断时须说明。不得编造数字。"
    ),
}

_RESTORE = {
    "en": (
        "Plan the restoration after this damage: assets {asset_ids} are down.\n"
        "1. Call cascade with these assets failing at hour 0 to see what they take down.\n"
        "2. Call single_points_of_failure and dependents on the assets that serve the most people, and "
        "criticality, to decide what to repair first.\n"
        "3. Propose a repair order per agency, putting first the repairs that bring back the most people and "
        "the key facilities soonest; say which agencies must coordinate. Use only the tools' answers; say "
        "where the data gives no repair times."
    ),
    "zh": (
        "请为以下损毁制定恢复方案：设施 {asset_ids} 已失效。\n"
        "1. 调用 cascade，令这些设施在第 0 小时失效，查看其影响范围。\n"
        "2. 对服务人口最多的设施调用 single_points_of_failure 和 dependents，并调用 criticality，确定抢修优先级。\n"
        "3. 按单位给出抢修顺序：优先恢复服务人口最多和关键设施的抢修；说明哪些单位须协调。只依据工具结果；"
        "数据中没有抢修时长时须说明。"
    ),
}


_LIVE = {
    "en": (
        "Brief the emergency command centre on the live situation{at}.\n"
        "1. Call live_picture{args}.\n"
        "2. Say what is reported down and since when (with its source), how many assets and people are down "
        "now, and then the next deadlines in time order: what fails, at what clock time, what it loses, and "
        "which agencies must talk before then. Use only the tool's answer; say when a list was cut."
    ),
    "zh": (
        "请向应急指挥中心简报当前实时态势{at}。\n"
        "1. 调用 live_picture{args}。\n"
        "2. 说明现场报告停运的设施及起始时间（含上报来源）、目前失效的设施数和受影响人口，"
        "再按时间顺序列出接下来的时限：何设施、何时失效、失去何种供应、此前哪些单位须协调。只依据工具结果；列表被截断时须说明。"
    ),
}


def add_prompts(server: MCPServer) -> None:
    """Register the command-centre prompts on ``server``."""

    @server.prompt(name="brief_failure", title="Brief the command centre on a failure / 故障简报",
                   description="A briefing for the emergency command centre on one asset failing at an hour. "
                               "向应急指挥中心简报某设施在某时刻失效的影响。")
    def brief_failure(asset_id: Annotated[str, Field(description="The failing asset's id. 失效设施编号。")],
                      hour: Annotated[str, Field(description="Hour of the failure (8 = 08:00). 失效时刻。")] = "0",
                      language: Language = "en") -> str:
        return _BRIEF[language].format(asset_id=asset_id, hour=hour)

    @server.prompt(name="plan_restoration", title="Plan the restoration / 制定恢复方案",
                   description="A repair plan after damage: what to repair first, per agency. "
                               "损毁后的抢修方案：按单位确定抢修顺序。")
    def plan_restoration(asset_ids: Annotated[str, Field(description="Damaged asset ids, comma-separated. "
                                                                     "损毁设施编号，逗号分隔。")],
                         language: Language = "en") -> str:
        return _RESTORE[language].format(asset_ids=asset_ids)

    @server.prompt(name="brief_live", title="Brief the command centre on the live picture / 实时态势简报",
                   description="A briefing on what is down now and the next deadlines, from the field's reports. "
                               "依据现场上报，简报当前停运情况与接下来的时限。")
    def brief_live(as_of: Annotated[str, Field(description="ISO time with offset (empty: now). 时刻（留空为现在）。")]
                   = "", language: Language = "en") -> str:
        at = "" if not as_of else (f" as of {as_of}" if language == "en" else f"（截至 {as_of}）")
        args = "" if not as_of else f' with as_of="{as_of}"' if language == "en" else f'，参数 as_of="{as_of}"'
        return _LIVE[language].format(at=at, args=args)
