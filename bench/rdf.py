"""RDF export and re-import of a large synthetic city, next to rdflib on the same triples.

Times are wall-clock seconds and CPU seconds of the measuring process (the
CPU figure is the stable one on a shared machine; ratios use it).

    python bench/rdf.py [--assets 100000] [--seed 7] [--shacl-assets 5000] [--parser-assets 20000]
                        [--skip-rdflib] [--parsers-only] [--json FILE]
                        [--neo4j bolt://HOST:PORT] [--only export|dependents]

1. Export (``kg.rdf.export_rdf``, streamed from a SQLite store) as Turtle,
   N-Triples and JSON-LD: seconds, triples/s, peak RSS.
2. rdflib on the same triples: the N-Triples export parsed into an in-memory
   ``Graph``, then ``Graph.serialize`` to each format (the ratio is ours/theirs
   in triples per second; rdflib's graph-building time is reported apart).
3. Re-import of each file into an empty SQLite store, as ``kg load`` does
   (parse, SHACL, conversion to rows, ``build_plan``, one write), with the
   time of each phase and the peak RSS; and rdflib's parser on the same file.
4. SHACL: the fast engine against pyshacl over the whole graph of a
   ``--shacl-assets`` city (pyshacl does not finish in reasonable time at
   100k), and the fast engine alone at ``--assets``.
5. Parsers: the Turtle and N-Triples exports of a ``--parser-assets`` city
   (the demo's size) read into the index by pyoxigraph (``kg.rdf.parse``) and by
   the hand-written parser it replaced, taken from git at :data:`OLD_PARSER`
   (skipped outside a git checkout): seconds, CPU seconds, peak RSS above an
   idle process.

5. Transitive dependents of substations, the same question three ways on the
   same city: SPARQL (``ckg:dependsOn+`` over the Oxigraph dataset, through
   :class:`kg.sparql.engine.SparqlService` as ``kg sparql`` and the API run it,
   and pyoxigraph in process), Cypher on Neo4j (``--neo4j``, default
   ``$KG_NEO4J_URL``; the store is emptied and loaded with the city; the
   cookbook's ``SHORTEST 1`` query, which also gives the depth, and a plain
   ``[:DEPENDS_ON*]`` one) and CityKG's own ``dependents`` on the snapshot.
   Median milliseconds per query over the probes after one untimed pass (warm
   caches), each answer checked equal.

Every measurement runs in a fresh process, so each peak RSS (``ru_maxrss``)
belongs to that phase alone; the first line gives the RSS of a process that
has only imported CityKG, to subtract.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OLD_PARSER = "13f2a842885af23bf135f5bed39af9ce68d7a269"
"""The last commit with the hand-written Turtle/N-Triples parser (kg/rdf/parse.py) and its JSON-LD module."""
FORMATS = ("ttl", "nt", "jsonld")
SUFFIX = {"ttl": ".ttl", "nt": ".nt", "jsonld": ".jsonld"}
RDFLIB = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(target: Callable[..., dict[str, Any]], args: tuple[Any, ...], queue: Any) -> None:
    try:
        result = target(*args)
        result["peak_rss_mb"] = round(_rss_mb(), 1)
        queue.put(result)
    except BaseException as exc:  # report, never hang the parent
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def _isolated(target: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``target(*args)`` in a fresh process and return its result with the process's peak RSS."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, args, queue))
    proc.start()
    result: dict[str, Any] = queue.get()
    proc.join()
    if "error" in result:
        raise RuntimeError(result["error"])
    return result


# ---------------------------------------------------------------------- phases (run in children)


def baseline() -> dict[str, Any]:
    import kg.load
    import kg.rdf.export
    import kg.rdf.reader
    import kg.store.sqlite  # noqa: F401

    return {}


def make_store(db: str, assets: int, seed: int) -> dict[str, Any]:
    from kg.load.plan import LoadPlan
    from kg.store.sqlite import SQLiteStore
    from kg.synth import city_rows

    start = time.perf_counter()
    plan = LoadPlan()
    plan.rows.update(city_rows(assets, seed))
    store = SQLiteStore(db, create=True)
    store.clear()
    store.write(plan)
    return {"seconds": time.perf_counter() - start, "counts": plan.counts()}


def export(db: str, fmt: str, path: str) -> dict[str, Any]:
    from kg.rdf.export import export_rdf
    from kg.store.sqlite import SQLiteStore

    store = SQLiteStore(db)
    start, cpu = time.perf_counter(), time.process_time()
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as out:
        report = export_rdf(store, out, fmt=fmt)
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "triples": report.triples,
            "bytes": Path(path).stat().st_size}


def rdflib_serialize(nt_path: str, out_dir: str) -> dict[str, Any]:
    from rdflib import Graph

    from kg.rdf.index import to_rdflib
    from kg.rdf.parse import parse_file

    index = parse_file(Path(nt_path))
    start = time.perf_counter()
    graph = Graph()
    for s, node in index.nodes.items():
        subject = to_rdflib(s)
        for p, values in node.items():
            predicate = to_rdflib(p)
            for o in values:
                graph.add((subject, predicate, to_rdflib(o)))
    del index
    built = time.perf_counter() - start
    result: dict[str, Any] = {"graph_seconds": built, "triples": len(graph)}
    for fmt in FORMATS:
        start, cpu = time.perf_counter(), time.process_time()
        graph.serialize(destination=str(Path(out_dir) / f"rdflib{SUFFIX[fmt]}"), format=RDFLIB[fmt],
                        encoding="utf-8")
        result[fmt] = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}
    return result


def reimport(path: str, db: str) -> dict[str, Any]:
    from kg.load.plan import build_plan
    from kg.rdf.convert import rows_from_index
    from kg.rdf.parse import parse_file
    from kg.rdf.shacl import validate_index
    from kg.store.sqlite import SQLiteStore

    phases: dict[str, float] = {}
    start = time.perf_counter()
    index = parse_file(Path(path))
    phases["parse"] = time.perf_counter() - start
    mark = time.perf_counter()
    violations = validate_index(index)
    phases["shacl"] = time.perf_counter() - mark
    mark = time.perf_counter()
    problems: list[Any] = []
    rows = sum(1 for _ in rows_from_index(index, problems.append))
    phases["to_rows"] = time.perf_counter() - mark
    triples = index.count
    del index
    store = SQLiteStore(db, create=True)
    store.clear()
    mark, cpu = time.perf_counter(), time.process_time()
    plan = build_plan([Path(path)], store)  # the whole of `kg load` before the write, parse and SHACL included
    phases["build_plan_total"] = time.perf_counter() - mark
    mark = time.perf_counter()
    store.write(plan)
    phases["write"] = time.perf_counter() - mark
    cpu = time.process_time() - cpu
    return {"seconds": phases["build_plan_total"] + phases["write"], "phases": phases, "triples": triples,
            "cpu": cpu,
            "rows": rows, "violations": len(violations) + len(problems)}


def rdflib_parse(path: str, fmt: str) -> dict[str, Any]:
    from rdflib import Graph

    start, cpu = time.perf_counter(), time.process_time()
    graph = Graph().parse(path, format=RDFLIB[fmt])
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "triples": len(graph)}


def shacl(path: str, engine: str) -> dict[str, Any]:
    from kg.rdf.parse import parse_file
    from kg.rdf.shacl import validate_index

    index = parse_file(Path(path))
    start, cpu = time.perf_counter(), time.process_time()
    violations = validate_index(index, engine=engine)
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "triples": index.count,
            "violations": len(violations)}


PROBES = 12
"""Substations asked about: the ones with the most dependents, then every n-th one (small answers too)."""

SPARQL_DEPENDENTS = 'SELECT DISTINCT ?id WHERE { ?d ckg:dependsOn+ id:%s ; ckg:id ?id }'
CYPHER_DEPENDENTS = {
    "cypher SHORTEST": "MATCH p = SHORTEST 1 (s:Substation {id: $id})<-[:DEPENDS_ON]-+(d:Asset) "
                       "RETURN d.id AS id, length(p) AS depth",
    "cypher [*] DISTINCT": "MATCH (s:Substation {id: $id})<-[:DEPENDS_ON*]-(d:Asset) RETURN DISTINCT d.id AS id",
}


def _median_ms(times: list[float]) -> float:
    ordered = sorted(times)
    return 1000 * ordered[len(ordered) // 2]


def dependents_three_ways(db: str, neo4j_url: str | None, repeats: int) -> dict[str, Any]:
    import pyoxigraph as ox

    from kg.analysis.traces import dependents
    from kg.load.plan import LoadPlan
    from kg.rdf.export import export_prefixes
    from kg.rdf.terms import scheme
    from kg.sparql.engine import SparqlRequest, SparqlService
    from kg.store.sqlite import SQLiteStore

    store = SQLiteStore(db)
    start = time.perf_counter()
    snap = store.snapshot()
    result: dict[str, Any] = {"snapshot_s": time.perf_counter() - start}
    substations = [i for i in range(snap.n) if snap.type_of(i) == "Substation"]
    by_size = sorted(substations, key=lambda i: (-len(dependents(snap, snap.asset_ids[i])), snap.asset_ids[i]))
    step = max(len(by_size) // PROBES, 1)
    probes = list(dict.fromkeys([snap.asset_ids[i] for i in by_size[:PROBES // 2]] +
                                [snap.asset_ids[i] for i in by_size[::step]]))[:PROBES]
    answers = {p: {snap.asset_ids[i] for i, _ in dependents(snap, p)} for p in probes}
    result["probes"] = len(probes)
    result["answer_sizes"] = sorted(len(a) for a in answers.values())
    times: dict[str, list[float]] = {}

    def timed(name: str, run: Callable[[str], set[str]]) -> None:
        for probe in probes:  # one untimed pass: caches warm, as on a server that has been answering
            run(probe)
        times[name] = []
        for _ in range(repeats):
            for probe in probes:
                began = time.perf_counter()
                got = run(probe)
                times[name].append(time.perf_counter() - began)
                if got != answers[probe]:
                    raise SystemExit(f"{name}: another answer for {probe} ({len(got)} vs {len(answers[probe])})")

    timed("citykg dependents", lambda p: {snap.asset_ids[i] for i, _ in dependents(snap, p)})

    service = SparqlService(workers=1)
    start = time.perf_counter()
    service.query(store, SparqlRequest("ASK {}"), timeout_s=60)
    result["sparql_build_s"] = time.perf_counter() - start
    dataset = service.datasets.current
    assert dataset is not None
    result["sparql_triples"] = dataset.triples

    def sparql(probe: str) -> set[str]:
        answer = service.query(store, SparqlRequest(SPARQL_DEPENDENTS % probe), timeout_s=600, max_rows=10**7)
        return {b["id"]["value"] for b in json.loads(answer.body)["results"]["bindings"]}

    timed("sparql (kg.sparql)", sparql)
    oxi = ox.Store.read_only(str(dataset.path))
    prefixes = dict(export_prefixes(scheme()))
    timed("sparql (pyoxigraph)", lambda p: {s["id"].value for s in oxi.query(SPARQL_DEPENDENTS % p,
                                                                             prefixes=prefixes)})
    service.close()

    if neo4j_url:
        from kg.store.neo4j import Neo4jStore

        neo = Neo4jStore(neo4j_url)
        neo.clear()
        plan = LoadPlan()
        for table in plan.rows:
            plan.rows[table] = list(store.rows(table))
        start = time.perf_counter()
        neo.write(plan)
        result["neo4j_load_s"] = time.perf_counter() - start
        for name, query in CYPHER_DEPENDENTS.items():
            timed(name, lambda p, q=query: {r["id"] for r in neo.run_cypher(q, {"id": p}, timeout_s=600,
                                                                           row_limit=10**7).rows})
        neo.close()
    result["median_ms"] = {name: _median_ms(t) for name, t in times.items()}
    result["total_s"] = {name: sum(t) for name, t in times.items()}
    return result


def old_parser(out_dir: str) -> str | None:
    """Write the hand-written parser of :data:`OLD_PARSER` into ``out_dir`` as importable modules.

    Returns ``out_dir``, or None when git or the commit is not at hand.
    """
    root = Path(__file__).resolve().parent.parent
    sources = {}
    for name in ("parse", "jsonld"):
        try:
            sources[name] = subprocess.run(["git", "-C", str(root), "show", f"{OLD_PARSER}:kg/rdf/{name}.py"],
                                           capture_output=True, check=True, text=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
    Path(out_dir, "old_rdf_jsonld.py").write_text(sources["jsonld"], encoding="utf-8")
    Path(out_dir, "old_rdf_parse.py").write_text(
        sources["parse"].replace("from kg.rdf.jsonld import", "from old_rdf_jsonld import"), encoding="utf-8")
    return out_dir


def parse_only(path: str, old_dir: str | None) -> dict[str, Any]:
    """Read ``path`` into the index with pyoxigraph (``old_dir`` None) or with the old parser found there."""
    if old_dir is None:
        from kg.rdf.parse import parse_file
    else:
        sys.path.insert(0, old_dir)
        from old_rdf_parse import parse_file  # type: ignore[import-not-found, no-redef]
    start, cpu = time.perf_counter(), time.process_time()
    index = parse_file(Path(path))
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "triples": index.count}


def compare_parsers(tmp: str, assets: int, seed: int, base_rss: float) -> dict[str, Any]:
    """Section 5: old and new parser on the Turtle and N-Triples exports of an ``assets`` city."""
    db = str(Path(tmp) / "parsers.db")
    _isolated(make_store, db, assets, seed)
    old_dir = old_parser(tmp)
    results: dict[str, Any] = {"assets": assets, "old_parser": OLD_PARSER if old_dir else None}
    print(f"\nparsers, {assets:,}-asset city: pyoxigraph (kg.rdf.parse) vs the hand-written parser at "
          f"{OLD_PARSER[:7]}" + ("" if old_dir else " (not available: no git checkout)"))
    print(f"{'format':<8}{'triples':>10}{'new s':>8}{'cpu':>7}{'RSS MB':>8}{'old s':>8}{'cpu':>7}{'RSS MB':>8}"
          f"{'cpu ratio':>11}{'RSS ratio':>11}")
    for fmt in ("ttl", "nt"):
        path = str(Path(tmp) / f"parsers{SUFFIX[fmt]}")
        _isolated(export, db, fmt, path)
        new = _isolated(parse_only, path, None)
        new["rss_mb"] = new["peak_rss_mb"] - base_rss
        row = {"new": new}
        line = f"{fmt:<8}{new['triples']:>10,}{new['seconds']:8.2f}{new['cpu']:7.2f}{new['rss_mb']:8.0f}"
        if old_dir:
            old = _isolated(parse_only, path, old_dir)
            old["rss_mb"] = old["peak_rss_mb"] - base_rss
            row["old"] = old
            line += (f"{old['seconds']:8.2f}{old['cpu']:7.2f}{old['rss_mb']:8.0f}{old['cpu'] / new['cpu']:10.1f}x"
                     f"{old['rss_mb'] / max(new['rss_mb'], 1):10.1f}x")
        print(line)
        results[fmt] = row
    return results


# ---------------------------------------------------------------------- driver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shacl-assets", type=int, default=5_000)
    parser.add_argument("--parser-assets", type=int, default=20_000, help="city size of the parser comparison")
    parser.add_argument("--skip-rdflib", action="store_true", help="skip rdflib's serializers and parsers")
    parser.add_argument("--parsers-only", action="store_true", help="only the parser comparison (section 5)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--neo4j", default=os.environ.get("KG_NEO4J_URL"),
                        help="a Neo4j the dependents comparison may empty and load (default $KG_NEO4J_URL)")
    parser.add_argument("--only", choices=("export", "dependents"), help="run one part only")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each dependents query")
    args = parser.parse_args()
    results: dict[str, Any] = {"assets": args.assets}
    with tempfile.TemporaryDirectory(prefix="kg-bench-rdf-") as tmp:
        base = _isolated(baseline)
        print(f"baseline RSS after importing kg: {base['peak_rss_mb']:.0f} MB")
        if args.only is None:
            results["parsers"] = compare_parsers(tmp, args.parser_assets, args.seed, base["peak_rss_mb"])
        if args.parsers_only:
            if args.json:
                args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
            return
        db = str(Path(tmp) / "city.db")
        made = _isolated(make_store, db, args.assets, args.seed)
        counts = ", ".join(f"{n:,} {t}" for t, n in made["counts"].items())
        print(f"city: {counts} (generated and stored in {made['seconds']:.1f} s)\n")
        results["counts"] = made["counts"]
        if args.only != "export":
            results["dependents"] = _dependents_table(db, args.neo4j, args.repeats)
        if args.only == "dependents":
            _write(args.json, results)
            return

        print(f"{'export':<10}{'seconds':>9}{'cpu s':>8}{'triples':>12}{'triples/s':>12}{'MB out':>9}{'peak RSS':>10}")
        exports: dict[str, dict[str, Any]] = {}
        for fmt in FORMATS:
            path = str(Path(tmp) / f"city{SUFFIX[fmt]}")
            r = exports[fmt] = _isolated(export, db, fmt, path)
            print(f"{fmt:<10}{r['seconds']:9.1f}{r['cpu']:8.1f}{r['triples']:12,}{r['triples'] / r['seconds']:12,.0f}"
                  f"{r['bytes'] / 1e6:9.0f}{r['peak_rss_mb']:8.0f} MB")
        results["export"] = exports

        if not args.skip_rdflib:
            r = _isolated(rdflib_serialize, str(Path(tmp) / "city.nt"), tmp)
            results["rdflib_serialize"] = r
            print(f"\nrdflib: Graph of {r['triples']:,} triples built in {r['graph_seconds']:.1f} s, "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB")
            print(f"{'serialize':<10}{'rdflib s':>9}{'cpu s':>8}{'ours s':>9}{'cpu s':>8}{'ratio (cpu)':>13}")
            for fmt in FORMATS:
                ours, theirs = exports[fmt], r[fmt]
                print(f"{fmt:<10}{theirs['seconds']:9.1f}{theirs['cpu']:8.1f}{ours['seconds']:9.1f}{ours['cpu']:8.1f}"
                      f"{theirs['cpu'] / ours['cpu']:12.1f}x")

        print(f"\n{'re-import':<10}{'seconds':>9}{'cpu s':>8}{'triples/s':>12}{'parse':>8}{'shacl':>8}{'rows':>8}"
              f"{'write':>8}{'peak RSS':>10}{'rdflib parse (cpu)':>22}")
        imports: dict[str, dict[str, Any]] = {}
        for fmt in FORMATS:
            path = str(Path(tmp) / f"city{SUFFIX[fmt]}")
            r = imports[fmt] = _isolated(reimport, path, str(Path(tmp) / f"import-{fmt}.db"))
            if r["violations"]:
                raise SystemExit(f"{fmt}: the export does not re-import cleanly ({r['violations']} problems)")
            ph = r["phases"]
            theirs = "skipped"
            if not args.skip_rdflib:
                rp = r["rdflib_parse"] = _isolated(rdflib_parse, path, fmt)
                theirs = f"{rp['seconds']:.0f} s ({rp['cpu']:.0f}), {rp['peak_rss_mb']:.0f} MB"
            print(f"{fmt:<10}{r['seconds']:9.1f}{r['cpu']:8.1f}{r['triples'] / r['seconds']:12,.0f}"
                  f"{ph['parse']:8.1f}"
                  f"{ph['shacl']:8.1f}{ph['to_rows']:8.1f}{ph['write']:8.1f}{r['peak_rss_mb']:8.0f} MB{theirs:>22}")
        results["reimport"] = imports

        small_db = str(Path(tmp) / "small.db")
        _isolated(make_store, small_db, args.shacl_assets, args.seed)
        small = str(Path(tmp) / "small.ttl")
        small_export = _isolated(export, small_db, "ttl", small)
        fast_small = _isolated(shacl, small, "fast")
        slow_small = _isolated(shacl, small, "pyshacl")
        fast_big = _isolated(shacl, str(Path(tmp) / "city.ttl"), "fast")
        results["shacl"] = {"small": {"assets": args.shacl_assets, "triples": small_export["triples"],
                                      "fast": fast_small, "pyshacl": slow_small},
                            "large": {"assets": args.assets, "fast": fast_big}}
        print(f"\nSHACL, {args.shacl_assets:,} assets ({small_export['triples']:,} triples): "
              f"fast {fast_small['seconds']:.1f} s (cpu {fast_small['cpu']:.1f}), "
              f"pyshacl {slow_small['seconds']:.1f} s (cpu {slow_small['cpu']:.1f}), "
              f"{slow_small['cpu'] / fast_small['cpu']:.0f}x in cpu time")
        print(f"SHACL, {args.assets:,} assets ({fast_big['triples']:,} triples): fast {fast_big['seconds']:.1f} s "
              f"(cpu {fast_big['cpu']:.1f}; {fast_big['triples'] / fast_big['cpu']:,.0f} triples per cpu second; "
              f"peak RSS {fast_big['peak_rss_mb']:.0f} MB with the parsed graph)")
    _write(args.json, results)


def _write(path: Path | None, results: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(results, indent=2), encoding="utf-8")


def _dependents_table(db: str, neo4j_url: str | None, repeats: int) -> dict[str, Any]:
    r = _isolated(dependents_three_ways, db, neo4j_url, repeats)
    sizes = r["answer_sizes"]
    print(f"transitive dependents of {r['probes']} substations ({sizes[0]:,} to {sizes[-1]:,} dependents each), "
          f"{repeats} runs each; one-off: snapshot {r['snapshot_s']:.1f} s, SPARQL dataset "
          f"({r['sparql_triples']:,} triples) {r['sparql_build_s']:.1f} s"
          + (f", Neo4j load {r['neo4j_load_s']:.1f} s" if "neo4j_load_s" in r else ", Neo4j skipped (no --neo4j)"))
    native = r["median_ms"]["citykg dependents"]
    print(f"{'engine':<22}{'median ms':>11}{'vs CityKG':>11}")
    for name, ms in r["median_ms"].items():
        print(f"{name:<22}{ms:11.2f}{ms / native:10.0f}x")
    print()
    return r


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    main()
