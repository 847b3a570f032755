"""Condense the hunks of lockfiles and manifests into a short list of package changes.

For every dependency file of a diff, each hunk's old and new side is read by the file's parser
(:mod:`.jsonlock`, :mod:`.tomllock`, :mod:`.textlocks`); entries are paired by key (or, when a key
changed, by package name) and compared. A hunk whose changed lines all belong to package entries is
*covered*: the items say everything it says. A hunk with a changed line outside any entry (a
fragment that starts inside a block it cannot name, a line no parser understands) stays *raw*,
with a note, and goes to the security lane as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from packaging.version import InvalidVersion, Version

from ..models import FileDiff
from .entries import Entry, SideLine, SideParser, sides
from .files import dependency_kind
from .jsonlock import parse_json_side
from .model import ChangeKind, CondensedDeps, DepChange, FileNote
from .textlocks import (
    parse_gemfile_side,
    parse_gomod_side,
    parse_gosum_side,
    parse_pnpm_side,
    parse_requirements_side,
    parse_yarn_side,
)
from .tomllock import parse_toml_side

MAX_LOOSE_LINES = 12  # more changed lines outside named packages than this: send the hunk raw
MAX_LOOSE_CHARS = 200
PARSERS: dict[str, tuple[str, SideParser]] = {
    "npm": ("npm", parse_json_side),
    "yarn": ("npm", parse_yarn_side),
    "pnpm": ("npm", parse_pnpm_side),
    "pipfile": ("pypi", parse_json_side),
    "composer": ("composer", parse_json_side),
    "toml-lock": ("", parse_toml_side),  # ecosystem from the file name
    "requirements": ("pypi", parse_requirements_side),
    "gomod": ("go", parse_gomod_side),
    "gosum": ("go", parse_gosum_side),
    "gemfile": ("rubygems", parse_gemfile_side),
}
_TOML_ECOSYSTEM = {"Cargo.lock": "cargo", "poetry.lock": "pypi", "uv.lock": "pypi", "pdm.lock": "pypi"}
_REGISTRIES = (
    "registry.npmjs.org",
    "registry.yarnpkg.com",
    "pypi.org",
    "files.pythonhosted.org",
    "github.com/rust-lang/crates.io-index",
    "index.crates.io",
    "rubygems.org",
    "repo.packagist.org",
    "proxy.golang.org",
)


def condense(files: Sequence[FileDiff]) -> CondensedDeps:
    """Package changes of the dependency files among ``files`` (other files are ignored)."""
    items: list[DepChange] = []
    notes: list[FileNote] = []
    covered: list[str] = []
    raw: list[str] = []
    seen: list[str] = []
    for file in files:
        kind = dependency_kind(file.path)
        if kind is None or not file.hunks:
            continue
        seen.append(file.path)
        ecosystem, parser = PARSERS[kind]
        ecosystem = ecosystem or _TOML_ECOSYSTEM.get(file.path.rsplit("/", 1)[-1], "pypi")
        file_items, file_covered, file_raw, note = _condense_file(file, ecosystem, parser)
        items.extend(file_items)
        covered.extend(file_covered)
        raw.extend(file_raw)
        if note:
            notes.append(note)
    return CondensedDeps(
        items=tuple(sorted(_dedupe(items), key=DepChange.sort_key)),
        notes=tuple(sorted(notes, key=lambda n: n.path)),
        covered=tuple(covered),
        raw=tuple(raw),
        files=tuple(sorted(seen)),
    )


def _condense_file(
    file: FileDiff, ecosystem: str, parser: SideParser
) -> tuple[list[DepChange], list[str], list[str], FileNote | None]:
    old: dict[str, Entry] = {}
    new: dict[str, Entry] = {}
    hunks_of: dict[str, set[str]] = {}
    covered: list[str] = []
    raw: list[str] = []
    loose: list[DepChange] = []
    for hunk in file.hunks:
        old_side, new_side = sides(hunk)
        try:
            before, after = parser(old_side), parser(new_side)
        except (ValueError, KeyError, IndexError, TypeError):
            raw.append(hunk.id)
            continue
        outside = [("-", ln) for ln in before.unattributed] + [("+", ln) for ln in after.unattributed]
        if len(outside) > MAX_LOOSE_LINES:
            raw.append(hunk.id)
            continue
        covered.append(hunk.id)
        if outside:
            loose.append(_loose(file.path, ecosystem, hunk.id, outside))
        for target, result in ((old, before), (new, after)):
            for entry in result.entries:
                if entry.pseudo:
                    continue
                _merge(target, entry)
                hunks_of.setdefault(entry.key, set()).add(hunk.id)
    note = None
    if raw:
        note = FileNote(
            file.path,
            f"{len(raw)} of {len(file.hunks)} hunk(s) could not be read as package entries; sent as raw hunks",
            tuple(raw),
        )
    items = _compare(file.path, ecosystem, old, new, hunks_of) + loose
    return items, covered, raw, note


def _loose(path: str, ecosystem: str, hunk_id: str, lines: list[tuple[str, SideLine]]) -> DepChange:
    """Changed lines the fragment cannot name a package for, shown as they are (never dropped)."""
    shown = "; ".join(f"{mark}{ln.text.strip()[:MAX_LOOSE_CHARS]}" for mark, ln in lines)
    first_new = next((ln.number for mark, ln in lines if mark == "+"), None)
    first_old = next((ln.number for mark, ln in lines if mark == "-"), None)
    return DepChange(
        path=path,
        ecosystem=ecosystem,
        name="(lines outside a named package)",
        kind=ChangeKind.CHANGED,
        detail=shown,
        line=first_new if first_new is not None else first_old,
        old_side=first_new is None,
        hunk_ids=(hunk_id,),
    )


def _merge(target: dict[str, Entry], entry: Entry) -> None:
    have = target.get(entry.key)
    if have is None:
        target[entry.key] = entry
        return
    have.changed = have.changed or entry.changed
    for attr in ("version", "source", "integrity", "line"):
        if getattr(have, attr) is None:
            setattr(have, attr, getattr(entry, attr))
    have.other.update(entry.other)


def _compare(
    path: str, ecosystem: str, old: dict[str, Entry], new: dict[str, Entry], hunks_of: dict[str, set[str]]
) -> list[DepChange]:
    items: list[DepChange] = []
    only_old = [e for k, e in old.items() if k not in new and e.changed]
    only_new = [e for k, e in new.items() if k not in old and e.changed]
    partial = [e for e in only_new + only_old if e.partial]  # files of a package, not the package
    only_old = [e for e in only_old if not e.partial]
    only_new = [e for e in only_new if not e.partial]
    pairs = [(old[k], new[k]) for k in sorted(old.keys() & new.keys()) if old[k].changed or new[k].changed]
    # A key that changed with the version (pnpm "foo@1.0.0", go.sum "mod@v1"): pair by name when unique.
    by_name_old = {e.name: [x for x in only_old if x.name == e.name] for e in only_old}
    by_name_new = {e.name: [x for x in only_new if x.name == e.name] for e in only_new}
    for name in sorted(by_name_old.keys() & by_name_new.keys()):
        if len(by_name_old[name]) == 1 and len(by_name_new[name]) == 1:
            a, b = by_name_old[name][0], by_name_new[name][0]
            pairs.append((a, b))
            only_old.remove(a)
            only_new.remove(b)
            hunks_of.setdefault(b.key, set()).update(hunks_of.get(a.key, set()))
    for entry in partial:
        gone = entry.key in old and entry.key not in new
        items.append(
            DepChange(
                path=path,
                ecosystem=ecosystem,
                name=entry.name,
                kind=ChangeKind.CHANGED,
                old_version=entry.version,
                new_version=entry.version,
                line=entry.line,
                old_side=gone,
                detail=f"{len(entry.other)} package file(s) {'removed' if gone else 'added'}",
                hunk_ids=_ids(hunks_of, entry),
            )
        )
    for entry in only_new:
        items.append(
            DepChange(
                path=path,
                ecosystem=ecosystem,
                name=entry.name,
                kind=ChangeKind.ADDED,
                new_version=entry.version,
                new_source=entry.source,
                line=entry.line,
                detail="has an install script" if entry.other.get("hasInstallScript") == "true" else "",
                hunk_ids=_ids(hunks_of, entry),
            )
        )
    for entry in only_old:
        items.append(
            DepChange(
                path=path,
                ecosystem=ecosystem,
                name=entry.name,
                kind=ChangeKind.REMOVED,
                old_version=entry.version,
                old_source=entry.source,
                line=entry.line,
                old_side=True,
                hunk_ids=_ids(hunks_of, entry),
            )
        )
    for a, b in pairs:
        items.extend(_changes(path, ecosystem, a, b, _ids(hunks_of, b) or _ids(hunks_of, a)))
    return items


def _ids(hunks_of: dict[str, set[str]], entry: Entry) -> tuple[str, ...]:
    return tuple(sorted(hunks_of.get(entry.key, ())))


def _changes(path: str, ecosystem: str, a: Entry, b: Entry, hunk_ids: tuple[str, ...]) -> list[DepChange]:
    common = DepChange(
        path=path,
        ecosystem=ecosystem,
        name=b.name,
        kind=ChangeKind.CHANGED,
        old_version=a.version,
        new_version=b.version,
        old_source=a.source,
        new_source=b.source,
        line=b.line,
        hunk_ids=hunk_ids,
    )
    out: list[DepChange] = []
    if a.version != b.version and a.version is not None and b.version is not None:
        order = compare_versions(a.version, b.version)
        kind = {1: ChangeKind.UPGRADED, -1: ChangeKind.DOWNGRADED}.get(order or 0, ChangeKind.VERSION_CHANGED)
        out.append(replace(common, kind=kind))
    if source_identity(a.source) != source_identity(b.source) and (a.source or b.source):
        out.append(replace(common, kind=ChangeKind.SOURCE_CHANGED))
    if not out and a.integrity != b.integrity and a.integrity and b.integrity:
        out.append(replace(common, kind=ChangeKind.INTEGRITY_CHANGED, detail="hash changed, same version"))
    if not out:
        fields = sorted(k for k in a.other.keys() | b.other.keys() if a.other.get(k) != b.other.get(k))
        if fields:
            shown = ", ".join(fields[:5]) + (f" and {len(fields) - 5} more" if len(fields) > 5 else "")
            if a.partial or b.partial:
                shown = f"{len(fields)} package file(s)"
            out.append(replace(common, detail="changed: " + shown))
    return out


def compare_versions(old: str, new: str) -> int | None:
    """1 when ``new`` is higher, -1 when lower, 0 when equal, None when they do not compare."""
    try:
        a, b = Version(old.lstrip("v=")), Version(new.lstrip("v="))
    except InvalidVersion:
        return None
    return (b > a) - (b < a)


def source_identity(source: str | None) -> tuple[str, str] | None:
    """What kind of source and where, ignoring the parts that name the version (tarball file names)."""
    if not source:
        return None
    text = source.strip()
    lowered = text.lower()
    if lowered.startswith(("git+", "git:", "git@", "github:", "gitlab:", "bitbucket:")) or ".git#" in lowered:
        return ("git", text.split("#", 1)[0])
    if lowered.startswith(("file:", "link:", "path+", "directory+", "editable+", "./", "../", "/")):
        return ("local", text)
    if lowered.startswith("registry+"):
        return ("registry", text[len("registry+") :])
    parts = urlsplit(text)
    if parts.scheme in ("http", "https"):
        host = (parts.hostname or "") + (
            "/" + parts.path.strip("/").split("/")[0] if "github.com" in (parts.hostname or "") else ""
        )
        if any(r in f"{parts.hostname}{parts.path}" for r in _REGISTRIES) or "/-/" in parts.path:
            return ("registry", parts.hostname or "")
        return ("tarball", host)
    return ("other", text)


def _dedupe(items: list[DepChange]) -> list[DepChange]:
    """go.mod and go.sum (or a manifest and its lock) can say the same change: keep the first."""
    seen: set[tuple[str, str, str, str | None, str | None]] = set()
    out = []
    for item in sorted(items, key=lambda i: (i.path.endswith(".sum"), i.sort_key())):
        key = (item.ecosystem, item.name, item.kind.value, item.old_version, item.new_version)
        if key in seen:
            continue
        seen.add(key)
        out.append(item)
    return out
