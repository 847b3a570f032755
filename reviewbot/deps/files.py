"""Which files are dependency manifests or lockfiles, and which parser reads each."""

from __future__ import annotations

import re

# File name -> parser kind.
_BY_NAME: dict[str, str] = {
    "package-lock.json": "npm",
    "npm-shrinkwrap.json": "npm",
    "yarn.lock": "yarn",
    "pnpm-lock.yaml": "pnpm",
    "poetry.lock": "toml-lock",
    "uv.lock": "toml-lock",
    "pdm.lock": "toml-lock",
    "Pipfile.lock": "pipfile",
    "go.mod": "gomod",
    "go.sum": "gosum",
    "Cargo.lock": "toml-lock",
    "Gemfile.lock": "gemfile",
    "composer.lock": "composer",
}
_REQUIREMENTS = re.compile(r"^(?:requirements|constraints)[\w.-]*\.(?:txt|in)$")


def dependency_kind(path: str) -> str | None:
    """The parser for ``path`` ("npm", "toml-lock", "requirements", ...), or None for other files."""
    name = path.rsplit("/", 1)[-1]
    kind = _BY_NAME.get(name)
    if kind is None and (
        _REQUIREMENTS.match(name) or (path.rsplit("/", 2)[-2:-1] == ["requirements"] and name.endswith(".txt"))
    ):
        kind = "requirements"
    return kind


def is_dependency_file(path: str) -> bool:
    return dependency_kind(path) is not None
