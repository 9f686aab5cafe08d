"""Connected components of a shrinking node set, kept as spanning trees (vectorised, decremental).

:class:`SpanningForest` holds one spanning tree per connected component of its
member nodes in an undirected graph. Deleting nodes costs work in proportion to
the trees it disturbs, not to the graph: the members whose tree path to their
root crosses a deleted node (the *orphans*) look for a neighbour that still
hangs from a root, and a breadth-first search through the orphans from those
hooks re-attaches every orphan it reaches. Orphans left over are cut off and
become new components, each with a fresh tree. This is exact (an orphan
connected to its root's part has a path whose last orphan touches that part)
and cheap when deleted nodes have small subtrees, as they do in breadth-first
trees of random and of infrastructure graphs.

Glossary
--------
label
    A component's number, ``comp[node]``; components cut off get new labels.
size, first
    Per label: member nodes now, and the smallest node when the label was made.
moved
    Nodes re-attached since the children index was built; :meth:`children_of`
    merges them in until the index is rebuilt.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from kg.analysis.cascade import gather

__all__ = ["SpanningForest"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_EMPTY = np.zeros(0, dtype=np.int64)


class SpanningForest:
    """Spanning trees of the components of ``member`` in the graph ``nbr[ptr[v]:ptr[v+1]]`` (symmetric CSR).

    Examples
    --------
    A path 0-1-2-3 and an edge 4-5; deleting 2 cuts 3 off:

    >>> edges = [(0, 1), (1, 2), (2, 3), (4, 5)]
    >>> nbr = [[1], [0, 2], [1, 3], [2], [5], [4]]
    >>> ptr = np.cumsum([0] + [len(x) for x in nbr])
    >>> f = SpanningForest(ptr, np.concatenate(nbr), np.ones(6, dtype=bool))
    >>> f.size.tolist(), f.comp.tolist()
    ([4, 2], [0, 0, 0, 0, 1, 1])
    >>> cut = f.delete(np.array([2]))
    >>> cut.tolist(), f.comp[cut].tolist(), f.size.tolist()
    ([3], [2], [2, 2, 1])
    """

    def __init__(self, ptr: IntArray, nbr: IntArray, member: BoolArray) -> None:
        n = len(member)
        self.ptr, self.nbr = ptr, nbr
        self.degree = np.diff(ptr)
        self.member = member.copy()
        self.parent = np.full(n, -1, dtype=np.int64)
        self.comp = np.full(n, -1, dtype=np.int64)
        self.size = _EMPTY
        self.first = _EMPTY
        self._mark = np.zeros(n, dtype=bool)  # scratch: all False between calls
        self._grow(np.flatnonzero(self.member))
        self._index_children()

    def copy(self, keep: BoolArray) -> SpanningForest:
        """A forest of this one's members in ``keep`` (whole components), sharing nothing that changes."""
        twin = object.__new__(SpanningForest)
        twin.ptr, twin.nbr, twin.degree = self.ptr, self.nbr, self.degree
        twin.member = self.member & keep
        twin.parent, twin.comp = self.parent.copy(), self.comp.copy()
        twin.size, twin.first = self.size.copy(), self.first
        twin._mark = np.zeros(len(self.member), dtype=bool)
        twin._child_ptr, twin._child, twin._child_count = self._child_ptr, self._child, self._child_count
        twin._moved, twin._moved_to = self._moved, self._moved_to
        return twin

    # ------------------------------------------------------------------ trees
    def _neighbours(self, nodes: IntArray) -> tuple[IntArray, IntArray]:
        """Every (node, neighbour) pair of ``nodes``, as two arrays."""
        return np.repeat(nodes, self.degree[nodes]), self.nbr[gather(self.ptr, nodes)]

    def _search(self, frontier: IntArray) -> None:
        """Breadth-first from ``frontier`` through marked nodes, unmarking them and setting their parents."""
        mark = self._mark
        while frontier.size:
            src, dst = self._neighbours(frontier)
            ok = mark[dst]
            frontier, at = np.unique(dst[ok], return_index=True)
            self.parent[frontier] = src[ok][at]
            mark[frontier] = False

    def _grow(self, nodes: IntArray) -> None:
        """New labels and trees for ``nodes`` (ascending; none has a member neighbour outside them)."""
        if not nodes.size:
            return
        self._mark[nodes] = True
        src, dst = self._neighbours(nodes)  # src ascends with nodes, both directions of every link
        inside = self._mark[dst]
        indptr = np.zeros(len(nodes) + 1, dtype=np.int32)
        np.cumsum(np.bincount(np.searchsorted(nodes, src[inside]), minlength=len(nodes)), out=indptr[1:])
        local = np.searchsorted(nodes, dst[inside]).astype(np.int32)
        graph = csr_matrix((np.ones(len(local)), local, indptr), shape=(len(nodes), len(nodes)))
        count, labels = connected_components(graph, directed=True, connection="strong")  # symmetric graph
        _, at = np.unique(labels, return_index=True)  # nodes ascend: at = each component's smallest node
        roots = nodes[at]
        self.comp[nodes] = len(self.size) + labels
        self.size = np.concatenate((self.size, np.bincount(labels, minlength=count).astype(np.int64)))
        self.first = np.concatenate((self.first, roots))
        self.parent[roots] = -1
        self._mark[roots] = False
        self._search(roots)

    def _index_children(self) -> None:
        kids = np.flatnonzero(self.member & (self.parent >= 0))
        self._child = kids[np.argsort(self.parent[kids], kind="stable")]
        self._child_count = np.bincount(self.parent[kids], minlength=len(self.member))
        self._child_ptr = np.zeros(len(self.member) + 1, dtype=np.int64)
        np.cumsum(self._child_count, out=self._child_ptr[1:])
        self._moved, self._moved_to = _EMPTY, _EMPTY

    def children_of(self, nodes: IntArray) -> IntArray:
        """The tree children of ``nodes`` (members or not), possibly with repeats."""
        kids = self._child[gather(self._child_ptr, nodes)]
        kids = kids[self.parent[kids] == np.repeat(nodes, self._child_count[nodes])]
        if self._moved.size:
            moved = np.isin(self._moved_to, nodes) & (self.parent[self._moved] == self._moved_to)
            kids = np.concatenate((kids, self._moved[moved]))
        return kids

    # ------------------------------------------------------------------ deletions
    def drop(self, nodes: IntArray) -> None:
        """Remove whole components' ``nodes`` (nothing else hangs from them)."""
        nodes = nodes[self.member[nodes]]
        self.member[nodes] = False
        np.subtract.at(self.size, self.comp[nodes], 1)

    def delete(self, dead: IntArray) -> IntArray:
        """Remove ``dead``; return the members cut off from their components (ascending; new labels)."""
        dead = np.unique(dead[self.member[dead]])
        if not dead.size:
            return _EMPTY
        self.member[dead] = False
        np.subtract.at(self.size, self.comp[dead], 1)
        mark = self._mark
        mark[dead] = True  # passable while looking for the orphans below them
        found, frontier = [], dead
        while frontier.size:
            kids = self.children_of(frontier)
            frontier = np.unique(kids[self.member[kids] & ~mark[kids]])
            mark[frontier] = True
            found.append(frontier)
        mark[dead] = False
        orphans = np.unique(np.concatenate(found))
        if not orphans.size:
            return _EMPTY
        src, dst = self._neighbours(orphans)  # hooks: neighbours still hanging from a root
        hook = self.member[dst] & ~mark[dst]
        seeds, at = np.unique(src[hook], return_index=True)
        self.parent[seeds] = dst[hook][at]
        mark[seeds] = False
        self._search(seeds)
        cut = orphans[mark[orphans]]
        if cut.size:
            mark[cut] = False
            np.subtract.at(self.size, self.comp[cut], 1)
            self._grow(cut)
        moved = orphans[self.parent[orphans] >= 0]  # every orphan has a new parent, or is a new root
        self._moved = np.concatenate((self._moved, moved))
        self._moved_to = np.concatenate((self._moved_to, self.parent[moved]))
        if len(self._moved) > max(4096, len(self._child) // 4):
            self._index_children()
        return cut
