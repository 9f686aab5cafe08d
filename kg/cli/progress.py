"""Progress bars on stderr for long loads and batch work; silent with --quiet or when stderr is not a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from kg.cli.app import err_console
from kg.executor import Progress as ProgressCallback
from kg.ingest import Phase

__all__ = ["LoadProgress", "batch_progress"]

_SHOW_FROM_BYTES = 512 * 1024  # a few thousand rows


def _size(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        elif path.is_file():
            total += path.stat().st_size
    return total


class LoadProgress(Phase):
    """Shows 'validating' (bytes read) then 'writing' (rows written)."""

    def __init__(self, paths: list[Path], *, quiet: bool) -> None:
        total = _size(paths)
        self.enabled = not quiet and err_console.is_terminal and total >= _SHOW_FROM_BYTES
        self._bar = Progress(
            TextColumn("{task.description:<10}"), BarColumn(), DownloadColumn(), MofNCompleteColumn(),
            console=err_console, transient=True,
        )
        self._read: TaskID | None = None
        self._write: TaskID | None = None
        self._total = total

    def __enter__(self) -> LoadProgress:
        if self.enabled:
            self._bar.start()
            self._read = self._bar.add_task("validating", total=self._total)
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.enabled:
            self._bar.stop()

    def reading(self, n: int) -> None:
        if self._read is not None:
            self._bar.advance(self._read, n)

    def start_writing(self, rows: int) -> None:
        if self.enabled:
            self._write = self._bar.add_task("writing", total=rows)

    def writing(self, n: int) -> None:
        if self._write is not None:
            self._bar.advance(self._write, n)


@contextmanager
def batch_progress(label: str) -> Iterator[ProgressCallback | None]:
    """A ``progress(done, total)`` callback drawing ``label`` and the chunks done (of a Monte Carlo, a
    criticality ranking, ...), or ``None`` when stderr is not a terminal. The bar appears with the first
    call (work that never reports shows none) and goes when the work ends."""
    if not err_console.is_terminal:
        yield None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err_console, transient=True)
    task: list[TaskID] = []

    def show(done: int, total: int) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task(label, total=total))
        bar.update(task[0], completed=done, total=total)

    try:
        yield show
    finally:
        if task:
            bar.stop()
