"""The linear-time edge orders equal numpy's lexsort on random owners and keys, hubs included."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.ordering import order_by_owner


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(-3, 3)), max_size=80),
    st.integers(0, n - 1),
    st.integers(0, 40))))
def test_order_by_owner_is_lexsort(case: tuple[int, list[tuple[int, int]], int, int]) -> None:
    n, edges, hub, hub_edges = case
    edges = edges + [(hub, (i * 7) % 5 - 2) for i in range(hub_edges)]  # one owner with a long run
    owner = np.array([o for o, _ in edges], dtype=np.int32)
    key = np.array([k for _, k in edges], dtype=np.int64)
    assert order_by_owner(owner, n, key).tolist() == np.lexsort((key, owner)).tolist()
    assert order_by_owner(owner, n).tolist() == np.argsort(owner, kind="stable").tolist()
