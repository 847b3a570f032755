"""A unified diff read from a file, or from standard input for ``-``."""

from __future__ import annotations

import sys
from typing import BinaryIO

from ..diff import parse_diff
from ..errors import InputError
from ..models import Diff


class PatchSource:
    """The diff in ``path`` (``-`` reads standard input as bytes).

    The bytes are read once, on the first :meth:`read`; later calls return the
    same :class:`Diff` (standard input cannot be read twice).
    """

    def __init__(self, path: str, *, stdin: BinaryIO | None = None) -> None:
        self.path = path
        self._stdin = stdin
        self._diff: Diff | None = None

    def _origin(self) -> str:
        return "<stdin>" if self.path == "-" else self.path

    def _read_bytes(self) -> bytes:
        if self.path == "-":
            stream = self._stdin if self._stdin is not None else sys.stdin.buffer
            try:
                return stream.read()
            except OSError as exc:
                raise InputError(
                    f"cannot read the patch from standard input: {exc.strerror or exc}"
                ) from None
        try:
            with open(self.path, "rb") as handle:
                return handle.read()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise InputError(
                f"cannot read patch file {self.path!r}: {reason}",
                hint="pass a readable unified diff, or `--patch -` to read one from standard input",
            ) from None

    def read(self) -> Diff:
        """Parse the patch.

        Raises:
            InputError: the file is missing or unreadable.
            DiffParseError: it is not a diff (see :func:`reviewbot.diff.parse_diff`).
        """
        if self._diff is None:
            self._diff = parse_diff(self._read_bytes(), origin=self._origin())
        return self._diff

    def describe(self) -> str:
        return "patch from standard input" if self.path == "-" else f"patch {self.path}"

    def head_sha(self) -> str | None:
        return None
