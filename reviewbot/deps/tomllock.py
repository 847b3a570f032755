"""TOML lockfiles read in fragments: poetry.lock, uv.lock, pdm.lock, Cargo.lock.

Each is a list of ``[[package]]`` tables. A fragment's ``key = value`` lines are decoded one at a
time with :mod:`tomllib` (each is a valid TOML document on its own); lines of a multi-line array
(``files = [``, ``wheels = [``, ``dependencies = [``) belong to the package they sit in. Sub-tables
(``[package.source]``, ``[package.dependencies]``) belong to the current package; other tables
(``[metadata]``) are attributed but never reported.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

from .entries import Entry, SideLine, SideResult, is_noise

_ARRAY_OPEN = re.compile(r"^[A-Za-z0-9_.\"-]+\s*=\s*\[")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*$")


def parse_toml_side(lines: list[SideLine]) -> SideResult:
    result = SideResult()
    current: Entry | None = None
    table = ""  # "" in the package table itself, else the sub-table's name
    seen: dict[str, int] = {}
    in_array = False
    for line in lines:
        header = _HEADER.match(line.text)
        if header:
            name = header.group(1)
            if name == "package" and line.text.lstrip().startswith("[["):
                current = Entry(key="", name="", line=line.number, changed=line.changed)
                result.entries.append(current)
                table = ""
            elif name.startswith("package.") and current is not None:
                table = name.split(".", 1)[1]
                current.changed = current.changed or line.changed
            else:
                current = Entry(key=f"[{name}]", name=name, pseudo=True, changed=line.changed)
                result.entries.append(current)
                table = ""
            continue
        if current is None and line.text.startswith("name = "):  # a package whose header is just above
            current = Entry(key="", name="", line=line.number, changed=line.changed)
            result.entries.append(current)
            table = ""
        if current is None and lines and lines[0].number == 1:  # the top of the file: root keys
            current = Entry(key="[root]", name="root", pseudo=True)
            result.entries.append(current)
        if current is None:
            files = _file_entry(line)
            if files is None:
                result.lost(line)
            else:
                _merge_files(result, files)
            continue
        current.changed = current.changed or line.changed
        stripped = line.text.strip()
        try:
            values = tomllib.loads(stripped)
        except tomllib.TOMLDecodeError:
            values = {}
            if _ARRAY_OPEN.match(stripped):
                in_array = True
            if in_array or is_noise(stripped) or stripped.startswith(("{", '"')):
                # a line of a multi-line array (files, wheels, dependencies) of this package
                current.other.setdefault(table or "lines", "")
                current.other[table or "lines"] += stripped
            else:  # not TOML at all (a conflict marker, a truncated file): cannot vouch for it
                result.lost(line)
            if stripped.startswith("]"):
                in_array = False
        for key, value in values.items():
            _assign(current, table, key, value, line.number)
    for entry in result.entries:
        if not entry.pseudo:
            if not entry.name:  # a [[package]] whose name line the fragment does not show
                entry.pseudo = True
                entry.key, entry.name = f"[unnamed@{entry.line}]", "(unnamed package)"
                continue
            # name@version: a lock can hold one package at several versions (uv's forks, Cargo);
            # a version bump is then an unmatched pair that condense() joins by name.
            key = f"{entry.name}@{entry.version}"
            count = seen.get(key, 0)
            seen[key] = count + 1
            entry.key = key if count == 0 else f"{key}#{count}"
    return result


_URL = re.compile(r'url\s*=\s*"([^"]+)"')
_HASH = re.compile(r'hash\s*=\s*"([^"]+)"')


def _file_entry(line: SideLine) -> Entry | None:
    """A line of a package's file list (``{ url = ".../name-1.0-py3-none-any.whl", hash = ... }``)
    whose package header is above the fragment: named from the file name with ``packaging``."""
    url = _URL.search(line.text)
    if url is None:
        return None
    filename = url.group(1).rsplit("/", 1)[-1]
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    digest = _HASH.search(line.text)
    entry = Entry(key=f"{name}@{version}#files", name=str(name), version=str(version), line=line.number)
    entry.partial = True
    entry.changed = line.changed
    entry.other[filename] = digest.group(1) if digest else ""
    return entry


def _merge_files(result: SideResult, entry: Entry) -> None:
    for have in result.entries:
        if have.key == entry.key:
            have.other.update(entry.other)
            have.changed = have.changed or entry.changed
            return
    result.entries.append(entry)


def _assign(entry: Entry, table: str, key: str, value: Any, number: int | None) -> None:
    if table == "source" and key in ("url", "type", "reference", "resolved_reference"):
        if key == "url":
            entry.source = str(value)
        elif key in ("reference", "resolved_reference"):
            entry.integrity = str(value)
        return
    if table:
        entry.other[f"{table}.{key}"] = repr(value)
        return
    if key == "name":
        entry.name = str(value)
        entry.line = number
    elif key == "version":
        entry.version = str(value)
    elif key == "source":
        entry.source = _source(value)
    elif key in ("checksum", "content-hash"):
        entry.integrity = str(value)
    elif key == "sdist" and isinstance(value, dict):
        entry.integrity = str(value.get("hash", value))
    else:
        entry.other[key] = repr(value)


def _source(value: Any) -> str:
    """uv writes ``{registry = url}`` / ``{git = url}`` / ``{path = ...}``; Cargo a string."""
    if isinstance(value, dict):
        for kind in ("registry", "git", "url", "path", "directory", "editable", "virtual"):
            if kind in value:
                text = str(value[kind])
                return text if kind in ("registry", "url") else f"{kind}+{text}"
        return repr(value)
    return str(value)
