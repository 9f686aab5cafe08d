"""Analysis: pure functions over an immutable :class:`~kg.snapshot.GraphSnapshot`.

Traces, cascades and their coordination picture, criticality, hazards, robustness and
restoration; none does I/O, and long-running ones take a :class:`~kg.analysis.cancel.CancelToken`.
"""

__all__: list[str] = []
