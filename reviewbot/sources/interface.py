"""The diff-source seam: where the change under review comes from."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..models import Diff


@runtime_checkable
class DiffSource(Protocol):
    """Something that yields the :class:`~reviewbot.models.Diff` to review.

    Implementations do their I/O in :meth:`read`, never in ``__init__``, and
    raise :class:`~reviewbot.errors.InputError` (or a subclass) with a
    one-line message when the input cannot be had.
    """

    def read(self) -> Diff:
        """The parsed change."""
        ...

    def describe(self) -> str:
        """One line for reports and the audit log: what is being reviewed."""
        ...

    def head_sha(self) -> str | None:
        """The commit the change ends at, when there is one."""
        ...
