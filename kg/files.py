"""Writing output files whole: a temporary file beside the target, renamed over it only on success.

A reader never sees half a file, and a failed export leaves the old file (or
none) in place. The file gets the permissions an ordinary ``open(path, "w")``
would give: those of the file it replaces, else ``0o666`` less the umask.
(:func:`tempfile.mkstemp` would make it ``0o600``, readable by no one else.)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

__all__ = ["replaced_atomically"]


@contextlib.contextmanager
def replaced_atomically(path: Path, *, encoding: str = "utf-8") -> Iterator[TextIO]:
    """A text stream whose content replaces ``path`` when the ``with`` block ends without an error.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     target = Path(folder) / "out.txt"
    ...     with replaced_atomically(target) as out:
    ...         _ = out.write("whole or nothing")
    ...     print(target.read_text())
    whole or nothing
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            # 0o666: the kernel takes the umask off, as for any new file.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        if mode is not None:
            os.chmod(fd, mode)
        with os.fdopen(fd, "w", encoding=encoding, newline="\n") as stream:
            yield stream
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
