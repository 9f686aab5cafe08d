"""CityKG as an MCP server: the tools, resources and prompts any MCP-capable assistant may use.

:func:`build_server` makes one :class:`~mcp.server.mcpserver.MCPServer` whose
tools are thin faces over what ``kg`` computes for the CLI and the REST API
(:mod:`kg.assistants.answers`); every call goes through a
:class:`~kg.assistants.gate.Gate`, which the face serving the server provides:
``kg mcp`` (stdio, :mod:`kg.assistants.local`) or ``kg serve --mcp`` (Streamable
HTTP at ``/mcp``, ``api.mcp``). The tools' descriptions are in English and
Chinese, so a model choosing by either language finds them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from kg import __version__
from kg.assistants import answers
from kg.assistants.gate import Gate, ToolSpec
from kg.assistants.library import add_prompts, add_resources

__all__ = ["INSTRUCTIONS", "TOOLS", "build_server"]

INSTRUCTIONS = (
    "CityKG is the knowledge graph of a megacity's infrastructure: assets (substations, water plants, hospitals, "
    "...), the regions they are in, the agencies that run them, hazards, and what depends on what. Answer "
    "questions about dependencies, failures and who must coordinate from these tools, never from memory: find "
    "ids with search_assets, then ask dependents, dependencies, single_points_of_failure or cascade. Times are "
    "hours from the first failure. Lists may be cut: read `truncated`. The resource citykg://data-model explains "
    "the graph.\n"
    "CityKG 是特大城市基础设施知识图谱：设施、所在区域、运营单位、灾害及依赖关系。"
    "回答依赖、故障与协调问题时须调用这些工具，"
    "不可凭记忆：先用 search_assets 找到编号，再用 dependents、dependencies、single_points_of_failure 或 cascade。"
    "时间为自首次故障起的小时数。列表可能被截断，请看 truncated 字段。"
)

_READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
_WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

TOOLS: dict[str, ToolSpec] = {spec.name: spec for spec in (
    ToolSpec("search_assets", expensive=False),
    ToolSpec("dependents", expensive=False),
    ToolSpec("dependencies", expensive=False),
    ToolSpec("dependency_paths"),
    ToolSpec("single_points_of_failure"),
    ToolSpec("cascade"),
    ToolSpec("live_picture"),
    ToolSpec("report_status", role="write", expensive=False),
    ToolSpec("what_if"),
    ToolSpec("restoration_plan"),
    ToolSpec("criticality"),
    ToolSpec("cypher"),
    ToolSpec("sparql"),
)}
"""Every tool with the role it needs and whether it is expensive (as its REST route is)."""

# ---------------------------------------------------------------- argument types (module level: the SDK
# reads the tools' annotations against this module's globals)
AssetId = Annotated[str, Field(min_length=1, max_length=1000,
                               description="An asset id, e.g. s-00163 (search_assets finds ids by name). 设施编号。")]
Kinds = Annotated[list[str] | None, Field(
    description="Only follow dependencies of these service kinds (power, water, telecom, ...). 仅沿这些服务类型。")]
MaxDepth = Annotated[int | None, Field(ge=1, description="At most this many dependency hops. 最多跳数。")]


def _limit(what: str) -> Any:
    return Field(ge=1, le=1000, description=f"List at most this many {what} (the counts are always "
                                                     f"complete). 最多列出条数。")


class FailureIn(BaseModel):
    """An initial failure: asset ``id`` fails at ``time`` hours."""

    model_config = ConfigDict(extra="forbid")

    id: AssetId
    time: float = Field(0.0, ge=0, allow_inf_nan=False, description="Hours from the start, >= 0 (08:00 is 8). "
                                                                    "故障时刻（小时）。")


class StatusIn(BaseModel):
    """A status event from the field (the shape of ``POST /v1/events``; kg checks each field)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=1000, description="The report's unique id. 报告编号（唯一）。")
    asset: AssetId
    status: Literal["down", "up"] = Field(description="down or up. 停运或恢复。")
    time: str = Field(max_length=64, description="ISO 8601 with a UTC offset, e.g. 2026-07-01T08:00:00+08:00. "
                                                 "时间（含时区）。")
    source: str | None = Field(None, max_length=1000, description="Who reported it. 上报来源。")
    note: str | None = Field(None, max_length=10_000, description="Free text. 备注。")


def build_server(gate: Gate) -> MCPServer:
    """The CityKG MCP server, each tool call going through ``gate``."""
    # WARNING: the SDK configures the root logger (when nothing else has) at this level; our own
    # line per call goes through the gate.
    server: MCPServer = MCPServer("citykg", title="CityKG", version=__version__, instructions=INSTRUCTIONS,
                                  log_level="WARNING", middleware=[gate])
    gate.tools = TOOLS

    @server.tool(name="search_assets", title="Search assets / 查找设施", annotations=_READ, description=(
        "Find assets by text in their id, name or type, and by type, region or agency; sorted by id. Use it to "
        "turn a name into the id the other tools need.\n"
        "按编号、名称或类型中的文字查找设施，可按类型、区域、运营单位筛选；用于把名称换成其他工具所需的编号。"))
    async def search_assets(
        query: Annotated[str | None, Field(max_length=200, description="Text in the id, name or type. 文字。")] = None,
        type: Annotated[str | None, Field(description="An asset class, e.g. Substation, Hospital (subclasses "
                                                      "match too). 设施类型。")] = None,
        region: Annotated[str | None, Field(description="A region id; assets anywhere below it match. 区域编号。")]
        = None,
        agency: Annotated[str | None, Field(description="An agency id. 运营单位编号。")] = None,
        limit: Annotated[int, _limit("assets")] = 20,
    ) -> CallToolResult:
        return await gate.run(lambda s, c: answers.search_assets(s, query=query, type=type, region=region,
                                                                 agency=agency, limit=limit))

    for direction, text in (
        ("dependents", "What depends on an asset: every asset with a dependency path to it (redundancy and time "
                       "ignored), nearest first, with counts by type and depth and the people they serve.\n"
                       "哪些设施依赖该设施：所有经依赖链依赖它的设施（不计冗余与时间），由近及远，按类型、跳数统计，并给出服务人口。"),
        ("dependencies", "What an asset depends on: every asset it has a dependency path to, nearest first, with "
                         "counts by type and depth.\n"
                         "该设施依赖哪些设施：它经依赖链依赖的所有设施，由近及远，按类型、跳数统计。"),
    ):
        server.add_tool(_trace_tool(direction, gate), name=direction, title=direction.capitalize(),
                        description=text, annotations=_READ)

    @server.tool(name="dependency_paths", title="Dependency paths / 依赖路径", annotations=_READ, description=(
        "How one asset depends on another: the k shortest dependency chains from the dependent down to the "
        "provider, each hop with the service kinds it carries, shortest first (empty when it does not depend "
        "on it).\n"
        "依赖路径：从依赖方到提供方的 k 条最短依赖链，每一跳标明服务类型，由短到长（不依赖时为空）。"))
    async def dependency_paths(
        provider: Annotated[str, Field(min_length=1, max_length=1000, description=(
            "The provider at the bottom of the chains, e.g. a substation. 提供方设施编号。"))],
        dependent: Annotated[str, Field(min_length=1, max_length=1000, description=(
            "The dependent at the top of the chains, e.g. a hospital. 依赖方设施编号。"))],
        k: Annotated[int, Field(ge=1, le=20, description="How many chains. 链条数。")] = 3,
    ) -> CallToolResult:
        return await gate.run(lambda s, c: answers.paths_brief(s, provider=provider, dependent=dependent, k=k,
                                                               cancel=c))

    @server.tool(name="single_points_of_failure", title="Single points of failure / 单点故障", annotations=_READ,
                 description=(
                     "The assets whose lone failure takes this asset down, under the cascade rules (redundant "
                     "supplies and loops count, buffers do not save it), nearest first.\n"
                     "单点故障：任何一个单独失效就会导致该设施失效的设施（计入冗余供应，缓冲不改变结果），由近及远。"))
    async def single_points_of_failure(asset_id: AssetId) -> CallToolResult:
        return await gate.run(lambda s, c: answers.spof_brief(s, asset_id=asset_id, cancel=c))

    @server.tool(name="cascade", title="Cascade / 级联故障推演", annotations=_READ, description=(
        "What fails after some assets fail at given hours (fail), or after a hazard hits its zones (hazard_zones): "
        "the summary (failures, people, agencies, districts), which agencies must act first, which agencies "
        "must coordinate from when, the impact per district and the earliest failures with their causes. "
        "Give exactly one of fail and hazard_zones.\n"
        "级联故障推演：给定设施在某时刻失效（fail）或灾害影响其区域（hazard_zones）后，哪些设施何时失效；"
        "汇总（失效数、受影响人口、单位数、区县数）、最先须行动的单位、须协调的单位及起始时间、各区影响、最早的失效及原因。"
        "fail 与 hazard_zones 二选一。"))
    async def cascade(
        fail: Annotated[list[FailureIn] | None, Field(max_length=10_000, description=(
            "Initial failures: [{id, time}], time in hours (a failure at 08:00 is time 8). 初始失效设施及时刻。"))]
        = None,
        hazard_zones: Annotated[list[str] | None, Field(max_length=10_000, description=(
            "Hazard zone ids (e.g. flood-yuzhong-50y); their exposed, fragile assets fail at hour 0. 灾害区编号。"))]
        = None,
        horizon_hours: Annotated[float | None, Field(ge=0, allow_inf_nan=False, description=(
            "Count failures up to this hour only (none: until nothing more fails). 推演时长（小时）。"))] = None,
        samples: Annotated[int | None, Field(ge=1, description=(
            "With hazard_zones: Monte Carlo over the fragility curves with this many draws; the answer is the "
            "distribution of the impact (mean, p5, p95) and each asset's failure probability. 蒙特卡洛抽样次数。"))]
        = None,
        seed: Annotated[int, Field(ge=0, le=2**53 - 1, description="Seed of the draws. 随机种子。")] = 0,
        limit: Annotated[int, _limit("failures, agencies and districts")] = 30,
    ) -> CallToolResult:
        initial = [(f.id, f.time) for f in fail] if fail else None
        return await gate.run(lambda s, c: answers.cascade_brief(
            s, fail=initial, hazard_zones=hazard_zones, horizon_hours=horizon_hours, samples=samples, seed=seed,
            limit=limit, cancel=c))

    @server.tool(name="live_picture", title="Live picture / 实时态势", annotations=_READ, description=(
        "During an event: what is reported down (from the field's status events), how many assets and people are "
        "down now through the cascade, and the next deadlines: what fails next as backups run out, at what clock "
        "time, losing what, and which agencies must talk before then. as_of looks back in time.\n"
        "实时态势：现场报告停运的设施、经级联目前失效的设施数与受影响人口，以及接下来的时限：哪些设施将在备用耗尽后何时"
        "失效、失去何种供应、此前哪些单位须协调。as_of 可回看历史时刻。"))
    async def live_picture(
        as_of: Annotated[str | None, Field(max_length=64, description=(
            "ISO 8601 time with a UTC offset, e.g. 2026-07-01T09:30:00+08:00 (default: now). 时刻（含时区）。"))]
        = None,
        limit: Annotated[int, _limit("reported assets and deadlines")] = 20,
    ) -> CallToolResult:
        return await gate.run(lambda s, c: answers.live_brief(s, as_of=as_of, limit=limit, cancel=c))

    @server.tool(name="report_status", title="Report status / 上报设施状态", annotations=_WRITE, description=(
        "Record status reports from the field (an asset is down, or back up), all or nothing: each needs a "
        "unique id, the asset id, status down or up, and the time with a UTC offset. This changes the live "
        "picture for everyone: only report what a person or a system actually reported. Needs the write role.\n"
        "记录现场上报的设施状态（停运或恢复），全部成功或全部不记录；"
        "每条需唯一编号、设施编号、状态 down/up 及含时区的时间。"
        "这会改变所有人看到的实时态势：只记录确有人员或系统上报的内容。需要写权限。"))
    async def report_status(
        events: Annotated[list[StatusIn], Field(min_length=1, max_length=10_000, description=(
            "The reports. 状态报告。"))],
    ) -> CallToolResult:
        items = [e.model_dump(exclude_none=True) for e in events]
        return await gate.run(lambda s, c: answers.record_brief(s, events=items))

    @server.tool(name="what_if", title="What if / 假设推演", annotations=_READ, description=(
        "Compare a scenario (fail, or hazard_zones) on the graph as it is and on a copy with edits applied in "
        "order; nothing is stored. Edits: {op: add_buffer, asset, kind, group?, hours} (a backup of that many "
        "hours), {op: add_dependency, dependent, provider, kind, group?, buffer_hours?} (a new feed), {op: "
        "remove_dependency, dependent, provider, kind, group?}, {op: harden, asset, hazard} (the asset ignores "
        "that hazard). Answers what is saved, what newly fails, what fails later or sooner, and whom it concerns."
        "\n假设推演：在原图与按顺序施加修改后的副本上分别推演同一情景（fail 或 hazard_zones），不写入存储。"
        "修改：add_buffer（增加备用时长）、add_dependency（新增供应）、remove_dependency（移除依赖）、harden（加固抵御某灾害）。"
        "返回避免的失效、新增的失效、推迟或提前的失效及涉及的单位与区县。"))
    async def what_if(
        edits: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=10_000, description=(
            "The edits, in order, each an object with its op (see the tool description). 修改列表。"))],
        fail: Annotated[list[FailureIn] | None, Field(max_length=10_000, description=(
            "Initial failures: [{id, time}]. 初始失效设施及时刻。"))] = None,
        hazard_zones: Annotated[list[str] | None, Field(max_length=10_000, description=(
            "Or hazard zone ids. 或灾害区编号。"))] = None,
        horizon_hours: Annotated[float | None, Field(ge=0, allow_inf_nan=False, description=(
            "Count failures up to this hour only. 推演时长（小时）。"))] = None,
        limit: Annotated[int, _limit("assets per kind of change")] = 30,
    ) -> CallToolResult:
        initial = [(f.id, f.time) for f in fail] if fail else None
        return await gate.run(lambda s, c: answers.whatif_brief(
            s, edits=edits, fail=initial, hazard_zones=hazard_zones, horizon_hours=horizon_hours, limit=limit,
            cancel=c))

    @server.tool(name="restoration_plan", title="Restoration plan / 抢修恢复方案", annotations=_READ, description=(
        "Plan the repairs after damage (the damaged asset ids, or the assets a hazard damages): which crew "
        "repairs what, in which order, when each is done, and how the served population comes back; the "
        "objective is the fewest unserved people-hours, compared with the naive order (each agency's assets "
        "in id order). Repair hours default to the ontology's per type (FEMA Hazus); crews to 1 per agency.\n"
        "抢修恢复方案：给定损毁设施（或灾害造成的损毁），安排各单位抢修队的抢修顺序与完成时间及服务人口恢复曲线；"
        "目标为未服务人·小时最少，并与朴素顺序比较。抢修时长默认取本体中各类型的值，每单位默认 1 支抢修队。"))
    async def restoration_plan(
        damaged: Annotated[list[str] | None, Field(max_length=10_000, description=(
            "Ids of the damaged assets. 损毁设施编号。"))] = None,
        hazard_zones: Annotated[list[str] | None, Field(max_length=10_000, description=(
            "Or hazard zone ids: their exposed, fragile assets are the damage. 或灾害区编号。"))] = None,
        crews: Annotated[dict[str, int] | None, Field(description=(
            "Crews per agency id (default 1 each). 各单位抢修队数。"))] = None,
        repair_hours: Annotated[dict[str, float] | None, Field(description=(
            "Repair hours per asset id or asset type, overriding the defaults. 抢修时长（按编号或类型）。"))] = None,
        limit: Annotated[int, _limit("repairs and curve points")] = 30,
    ) -> CallToolResult:
        return await gate.run(lambda s, c: answers.restoration_brief(
            s, damaged=damaged, hazard_zones=hazard_zones, crews=crews, repair_hours=repair_hours, limit=limit,
            cancel=c))

    @server.tool(name="criticality", title="Criticality / 关键设施排名", annotations=_READ, description=(
        "The most critical assets: ranked by the cascade their lone failure at hour 0 causes (failures, then "
        "people, districts, agencies); per district with by_district.\n"
        "关键设施排名：按其单独失效引发的级联规模排序（失效数、人口、区县、单位）；by_district 时按区县分别排名。"))
    async def criticality(
        top: Annotated[int, Field(ge=1, le=1000, description="How many (per district with by_district). 前几名。")]
        = 10,
        by_district: Annotated[bool, Field(description="Rank within each district. 按区县排名。")] = False,
    ) -> CallToolResult:
        return await gate.run(lambda s, c: answers.criticality_brief(s, top=top, by_district=by_district,
                                                                     cancel=c))

    @server.tool(name="cypher", title="Read-only Cypher / 只读 Cypher 查询", annotations=_READ, description=(
        "Run a read-only Cypher query on the Neo4j store (nodes are :Element:Asset:...:Substation with `id`; "
        "DEPENDS_ON points from the dependent to the provider). Anything that would write, change the schema or "
        "administer the server is refused; time and row limits apply. Prefer the other tools when they answer.\n"
        "在 Neo4j 上执行只读 Cypher 查询；任何写入、改模式或管理操作都会被拒绝，有时间和行数限制。"
        "其他工具能回答时优先用它们。"))
    async def cypher(
        query: Annotated[str, Field(min_length=1, max_length=100_000, description="The Cypher text. 查询语句。")],
        params: Annotated[dict[str, Any] | None, Field(description="Query parameters ($name). 参数。")] = None,
        limit: Annotated[int, _limit("rows")] = 100,
    ) -> CallToolResult:
        return await gate.run(lambda s, c: answers.cypher_rows(s, query=query, params=params, limit=limit))

    @server.tool(name="sparql", title="SPARQL", annotations=_READ, description=(
        "Run a SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE) over the graph as linked data (prefixes ckg: "
        "and id: are predefined; ckg:dependsOn links a dependent to its provider). Updates are refused; time "
        "and row limits apply.\n"
        "对图谱的关联数据执行 SPARQL 1.1 查询（已预定义 ckg: 与 id: 前缀）；拒绝更新操作，有时间和行数限制。"))
    async def sparql(
        query: Annotated[str, Field(min_length=1, max_length=100_000, description="The SPARQL query. 查询语句。")],
        limit: Annotated[int, _limit("rows")] = 100,
    ) -> CallToolResult:
        return await gate.run(lambda s, c: answers.sparql_rows(s, query=query, limit=limit, deadline=c.deadline))

    add_resources(server)
    add_prompts(server)
    return server


def _trace_tool(direction: str, gate: Gate) -> Callable[..., Awaitable[CallToolResult]]:
    """The dependents or dependencies tool (one function, two names)."""

    async def trace(
        asset_id: AssetId,
        kinds: Kinds = None,
        max_depth: MaxDepth = None,
        limit: Annotated[int, _limit("assets")] = 50,
    ) -> CallToolResult:
        return await gate.run(lambda s, c: answers.trace_brief(
            s, direction, asset_id=asset_id, kinds=kinds, max_depth=max_depth, limit=limit, cancel=c))

    trace.__name__ = direction
    return trace
