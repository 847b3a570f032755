"""JSON lockfiles read in fragments: package-lock.json (v1-v3), composer.lock, Pipfile.lock.

A fragment is not a JSON document, but each of its lines is a JSON member (``"key": value``), an
opener (``"key": {``) or a closer. Every value is decoded with :func:`json.loads`; nesting comes from
the openers and closers. An object with a ``version``, ``resolved`` or ``integrity`` member (or a
``name`` and a ``version``, as in composer.lock) is a package entry; members of objects nested in it
(``dependencies``, composer's ``source`` and ``dist``) belong to it. A fragment that starts inside
an object whose opener it does not show has no entry for those lines: they are left unattributed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .entries import Entry, SideLine, SideResult, is_noise

_MEMBER = re.compile(r'^("(?:[^"\\]|\\.)*")\s*:\s*(.*?),?\s*$')
_ENTRY_FIELDS = ("version", "resolved", "integrity")


@dataclass
class _Frame:
    key: str | None
    line: int | None
    parent: _Frame | None
    fields: dict[str, Any] = field(default_factory=dict)
    items: list[Any] = field(default_factory=list)
    changed: int = 0
    changed_lines: list[SideLine] = field(default_factory=list)
    children: list[_Frame] = field(default_factory=list)

    def path(self) -> list[str]:
        out = []
        frame: _Frame | None = self
        while frame is not None:
            if frame.key is not None:
                out.append(frame.key)
            frame = frame.parent
        return out[::-1]

    def is_entry(self) -> bool:
        return any(k in self.fields for k in _ENTRY_FIELDS) or ("name" in self.fields and "version" in self.fields)


def parse_json_side(lines: list[SideLine]) -> SideResult:
    root = _Frame(None, None, None)
    top: _Frame | None = None  # None: inside an object we cannot see the opener of
    frames: list[_Frame] = []
    lost: list[SideLine] = []
    for line in lines:
        text = line.text.strip()
        member = _MEMBER.match(text)
        if text in ("{", "[") and line.number == 1:  # the document itself
            top = root
            continue
        if member:
            key = json.loads(member.group(1))
            rest = member.group(2)
            if rest in ("{", "["):
                parent = top if top is not None else None
                frame = _Frame(key, line.number, parent)
                frame.changed += line.changed
                if line.changed:
                    frame.changed_lines.append(line)
                if parent is not None:
                    parent.children.append(frame)
                frames.append(frame)
                top = frame
                continue
            if top is None:
                lost.append(line)
                continue
            try:
                top.fields[key] = json.loads(rest)
            except ValueError:
                top.fields[key] = rest
            top.changed += line.changed
            if line.changed:
                top.changed_lines.append(line)
            continue
        if text.startswith(("}", "]")):
            if top is not None:
                top.changed += line.changed and not is_noise(text)
                top = top.parent if top is not root else root
            continue
        if text == "{":  # an anonymous object in an array (composer packages)
            frame = _Frame(None, line.number, top)
            if top is not None:
                top.children.append(frame)
            frames.append(frame)
            top = frame
            continue
        if is_noise(text):
            continue
        if top is None:
            lost.append(line)
            continue
        try:
            top.items.append(json.loads(text.rstrip(",")))
        except ValueError:
            top.items.append(text)
        top.changed += line.changed
        if line.changed:
            top.changed_lines.append(line)
    return _entries(frames, lost)


def _owner(frame: _Frame) -> _Frame | None:
    node: _Frame | None = frame
    while node is not None:
        if node.is_entry():
            return node
        node = node.parent
    return None


def _entries(frames: list[_Frame], lost: list[SideLine]) -> SideResult:
    result = SideResult()
    for line in lost:
        result.lost(line)
    made: dict[int, Entry] = {}
    for frame in frames:
        owner = _owner(frame)
        if owner is None:
            for line in frame.changed_lines:
                result.lost(line)
            continue
        entry = made.get(id(owner))
        if entry is None:
            entry = made[id(owner)] = _entry(owner)
            result.entries.append(entry)
        if frame is not owner:
            prefix = frame.key or "item"
            for k, v in frame.fields.items():
                entry.other[f"{prefix}.{k}"] = json.dumps(v, sort_keys=True)
            if frame.items:
                entry.other[prefix] = json.dumps(frame.items, sort_keys=True)
        entry.changed = entry.changed or frame.changed > 0
    return result


def _entry(frame: _Frame) -> Entry:
    f = frame.fields
    path = frame.path()
    if "name" in f and isinstance(f["name"], str):
        name = f["name"]
    else:
        key = path[-1] if path else ""
        name = key.rsplit("node_modules/", 1)[-1] if "node_modules/" in key else key
    version = f.get("version")
    source = f.get("resolved") or f.get("index")
    if isinstance(f.get("git"), str):
        source = f"git+{f['git']}"
    integrity = f.get("integrity")
    other = {
        k: json.dumps(v, sort_keys=True)
        for k, v in f.items()
        if k not in ("name", "version", "resolved", "integrity", "index", "git")
    }
    for child in frame.children:  # composer: source {url, reference}, dist {url, shasum}; Pipfile: hashes
        if child.key == "source" and isinstance(child.fields.get("url"), str):
            source = f"{child.fields.get('type', '')}+{child.fields['url']}".lstrip("+")
            if child.fields.get("reference"):
                integrity = str(child.fields["reference"])
        if child.key == "hashes" and child.items:
            integrity = ",".join(sorted(str(i) for i in child.items))
    return Entry(
        key="/".join(path) if not ("name" in f and frame.key is None) else str(name),
        name=str(name),
        version=str(version) if version is not None else None,
        source=str(source) if source is not None else None,
        integrity=str(integrity) if integrity is not None else None,
        other=other,
        line=frame.line,
    )
