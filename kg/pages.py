"""Memory pages for a long-running server: no synchronous huge-page compaction while requests wait.

On Linux, NumPy advises the kernel to back every array of 4 MB or more with
transparent huge pages (``madvise(MADV_HUGEPAGE)``). Where the kernel's
policy is ``madvise`` (the usual default) and memory is fragmented (a machine
that has run for a while, its page cache full), the first touch of such an
array makes the kernel find, compact and clear a 2 MB page there and then, in
the thread that allocated it. A server that follows a small change writes a
new snapshot's arrays (a few hundred MB at a million assets) while it
answers: measured on the bench machine, the follower thread of a 10-row
change at 1M spent 0.79-0.83 s of CPU with the advice and 0.32-0.34 s
without. Ordinary pages cost a steady, small price per page instead.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["HUGE_PAGES_VARIABLE", "prefer_ordinary_pages"]

HUGE_PAGES_VARIABLE = "NUMPY_MADVISE_HUGEPAGE"
"""NumPy's own switch; when it is set, its value is kept (the operator decided)."""


def prefer_ordinary_pages() -> bool:
    """Stop NumPy asking for huge pages in this process, unless ``NUMPY_MADVISE_HUGEPAGE`` says otherwise.

    Returns
    -------
    bool
        Whether huge pages were asked for before (False as well when this NumPy has no switch).
    """
    if HUGE_PAGES_VARIABLE in os.environ:
        return False
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    switch = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if switch is None:
        return False
    return bool(switch(False))
