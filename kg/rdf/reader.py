"""Reading RDF instance data: parse, SHACL-validate, then hand over rows like a CSV bundle.

:func:`read_rdf_rows` is what :func:`kg.load.sources.read_rows` calls for a
``.ttl``, ``.nt``, ``.jsonld``, ``.rdf`` (or other RDF) file, so ``kg load city.ttl`` goes through
:func:`kg.load.build_plan` exactly as a CSV bundle does: all or nothing.

Order of checks, each reported as :class:`~kg.errors.Problem` records:

1. syntax (``FILE:LINE:COLUMN``, :mod:`kg.rdf.parse`), and nothing else is checked;
2. ``shapes.ttl`` (``FILE:LINE <focus node>`` and the shape's message); when a
   shape is violated no rows are produced, so the same fault is not reported
   twice;
3. conversion to rows (properties the vocabulary does not have, dangling
   ``ckg:dependsOn`` statements), then the record and reference checks of
   :func:`~kg.load.build_plan`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import Problem, ValidationError
from kg.i18n import Message, _l
from kg.rdf.convert import rows_from_index
from kg.rdf.index import Index
from kg.rdf.parse import parse_file
from kg.rdf.shacl import Violation, validate_index
from kg.rows import RawRow

__all__ = ["ShaclReport", "read_rdf_rows", "shacl_engine", "shacl_problems", "validate_rdf"]

Report = Callable[[Problem], None]

shacl_engine: ContextVar[str] = ContextVar("shacl_engine", default="fast")
"""SHACL engine :func:`read_rdf_rows` uses (``fast`` or ``pyshacl``); ``kg validate --engine`` sets it."""


@dataclass
class ShaclReport:
    """The outcome of validating one RDF file against the shapes."""

    source: str
    triples: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        """True when the file parsed and no shape is violated."""
        return not self.problems


def shacl_problems(index: Index, violations: list[Violation]) -> list[Problem]:
    """One problem per violation, located at its focus node, in file order."""
    def order(v: Violation) -> tuple[int, str, str]:
        line = index.lines.get(v.focus, 0) if isinstance(v.focus, str) else 0
        text = v.text()  # in English, so the order is the same in every language
        return line, str(v.focus), text.english() if isinstance(text, Message) else text

    return [Problem(index.where(v.focus), v.text()) for v in sorted(violations, key=order)]


def validate_rdf(path: Path | str, *, engine: str = "fast",
                 progress: Callable[[int], None] | None = None) -> tuple[ShaclReport, Index | None]:
    """Parse ``path`` and check it against ``shapes.ttl`` (no store is involved).

    Returns the report and the parsed index (None when the file could not be
    parsed). ``progress`` is called during the parse with bytes read (see
    :func:`~kg.rdf.parse.parse_file`), and with 0 now and then during SHACL.
    """
    path = Path(path)
    report = ShaclReport(str(path))
    try:
        index = parse_file(path, progress=progress)
    except ValidationError as exc:
        report.problems.extend(exc.problems)
        return report, None
    except OSError as exc:
        report.problems.append(Problem(str(path), _l("cannot read the file: {reason}",
                                                     reason=exc.strerror or str(exc))))
        return report, None
    report.triples = index.count
    tick = (lambda: progress(0)) if progress is not None else None
    report.problems.extend(shacl_problems(index, validate_index(index, engine=engine, tick=tick)))
    return report, index


def read_rdf_rows(path: Path, report: Report, progress: Callable[[int], None] | None = None) -> Iterator[RawRow]:
    """Yield the rows of an RDF file if it parses and conforms; report every problem otherwise."""
    shacl, index = validate_rdf(path, engine=shacl_engine.get(), progress=progress)
    for problem in shacl.problems:
        report(problem)
    if index is None or not shacl.conforms:
        return
    yield from rows_from_index(index, report)
