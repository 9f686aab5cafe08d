"""Two coupled Erdős–Rényi networks as a snapshot: the setting of Buldyrev et al. (Nature 2010).

Layer A is ``nodes`` substations (PowerAsset), layer B as many telecom exchanges
(TelecomAsset). Each layer is a G(n, M) random graph with ``M = n * k / 2``
links, each a dependency inside the layer; A's ``i``-th node and B's
``perm[i]``-th node depend on each other (one-to-one interdependence, a random
matching). The rows go through :func:`kg.snapshot.build_snapshot` like a
store's, so the robustness engine runs on them unchanged.

Mutual percolation theory for this system: the mutual giant component exists
while the fraction ``p`` of A's nodes kept after a random attack on A satisfies
``p * k > 2.4554`` (first-order collapse at ``p_c = 2.4554 / k``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kg.schema import TABLES
from kg.snapshot import GraphSnapshot, build_snapshot

__all__ = ["PC_TIMES_K", "coupled_er_snapshot", "er_links"]

PC_TIMES_K = 2.4554
"""``p_c * <k>`` for two fully interdependent ER networks of equal mean degree (Buldyrev et al. 2010)."""


def er_links(nodes: int, mean_degree: float, rng: np.random.Generator) -> np.ndarray:
    """``nodes * mean_degree / 2`` distinct random pairs ``(u, v)``, ``u < v``: a G(n, M) graph."""
    wanted = round(nodes * mean_degree / 2)
    pairs = np.zeros(0, dtype=np.int64)
    while len(pairs) < wanted:
        u = rng.integers(0, nodes, 2 * wanted)
        v = rng.integers(0, nodes, 2 * wanted)
        keep = u != v
        keys = np.minimum(u, v)[keep] * nodes + np.maximum(u, v)[keep]
        pairs = np.sort(np.concatenate((pairs, keys)))  # np.unique by a sort: NumPy 2.4's hashing one is ~100x slower
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
    chosen = rng.choice(len(pairs), wanted, replace=False)
    return np.stack((pairs[chosen] // nodes, pairs[chosen] % nodes), axis=1)


def _row(table: str, **values: Any) -> tuple[Any, ...]:
    return tuple(values.get(column) for column in TABLES[table].columns)


def coupled_er_snapshot(nodes: int, mean_degree: float = 4.0, seed: int = 0) -> GraphSnapshot:
    """Two ER layers of ``nodes`` assets each, mean degree ``mean_degree``, coupled one-to-one.

    Asset ids are ``a0000042`` (layer A) and ``b0000042`` (layer B); A's node ``i``
    is coupled with B's node ``perm[i]`` (a seeded random permutation).
    """
    rng = np.random.default_rng(seed)
    width = len(str(nodes))
    a = [f"a{i:0{width}d}" for i in range(nodes)]
    b = [f"b{i:0{width}d}" for i in range(nodes)]
    assets = [_row("assets", id=x, type="Substation", population=1) for x in a]
    assets += [_row("assets", id=x, type="TelecomExchange", population=1) for x in b]
    deps = []
    for ids, kind in ((a, "power"), (b, "telecom")):
        for u, v in er_links(nodes, mean_degree, rng).tolist():
            deps.append(_row("dependencies", dependent=ids[u], provider=ids[v], kind=kind, group=kind,
                             buffer_hours=0.0))
    for i, j in enumerate(rng.permutation(nodes).tolist()):
        deps.append(_row("dependencies", dependent=a[i], provider=b[j], kind="telecom", group="telecom",
                         buffer_hours=0.0))
        deps.append(_row("dependencies", dependent=b[j], provider=a[i], kind="power", group="power",
                         buffer_hours=0.0))
    rows = {"assets": assets, "dependencies": deps}
    return build_snapshot(1, lambda table: rows.get(table, []))
