"""Former home of :class:`~kg.snapshot.GraphSnapshot`; kept so existing imports keep working.

The snapshot sits below the stores (they build it), so it moved to :mod:`kg.snapshot`; import it from there.
"""

from kg.snapshot import GraphSnapshot, build_snapshot, dependency_arrays

__all__ = ["GraphSnapshot", "build_snapshot", "dependency_arrays"]
