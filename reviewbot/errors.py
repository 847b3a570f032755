"""One exception hierarchy. Every domain error carries an exit code and an optional hint.

The CLI's single top-level handler prints ``error: <message>`` and ``hint: <hint>``
(no traceback unless ``--verbose``) and exits with :attr:`ReviewbotError.exit_code`.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_AUTH = 4


class ReviewbotError(Exception):
    """Base of every error reviewbot raises on purpose."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(ReviewbotError):
    """Bad command-line arguments."""


class InputError(ReviewbotError):
    """Bad input: not a git repository, unknown ref, a file that is not a diff, ..."""


class DiffParseError(InputError):
    """A patch that cannot be parsed (not a diff, truncated hunk)."""


class GitError(InputError):
    """git failed or is not available."""


class PolicyError(ReviewbotError):
    """An invalid policy file. The message names file, line and key."""


class AuditError(ReviewbotError):
    """An audit file that cannot be read or whose hash chain is broken."""


class ModelError(ReviewbotError):
    """A model-lane failure that ends the run."""


class AuthError(ModelError):
    """Bad API key, exhausted quota or spend limit: retrying never helps."""

    exit_code = EXIT_AUTH


class GitHubError(ReviewbotError):
    """A GitHub API failure that ends the run."""
