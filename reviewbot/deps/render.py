"""The condensed dependency changes as compact text for the security lane's prompt."""

from __future__ import annotations

from .model import ChangeKind, CondensedDeps, DepChange

_MARK = {
    ChangeKind.ADDED: "+",
    ChangeKind.REMOVED: "-",
    ChangeKind.UPGRADED: "^",
    ChangeKind.DOWNGRADED: "v",
    ChangeKind.VERSION_CHANGED: "~",
    ChangeKind.SOURCE_CHANGED: "!",
    ChangeKind.INTEGRITY_CHANGED: "!",
    ChangeKind.CHANGED: "~",
}


def render_item(item: DepChange, *, line: bool = True) -> str:
    """One change as one line, e.g. ``^ upgraded lodash 4.17.20 -> 4.17.21 [line 12]``.

    With ``line=False`` the ``[line N]`` suffix is left out for a line of the new file (the
    prompt shows that number in front); a line of the old file keeps ``[old line N]``.
    """
    versions = {
        ChangeKind.ADDED: f"{item.new_version or '?'}",
        ChangeKind.REMOVED: f"{item.old_version or '?'}",
    }.get(item.kind, f"{item.old_version or '?'} -> {item.new_version or '?'}")
    if item.old_version is None and item.new_version is None:
        versions = ""
    elif item.old_version == item.new_version:
        versions = item.new_version or ""
    text = f"{_MARK[item.kind]} {item.kind.value} {item.name} {versions}".rstrip()
    if item.kind in (ChangeKind.SOURCE_CHANGED, ChangeKind.ADDED) and (item.new_source or item.old_source):
        if item.kind is ChangeKind.SOURCE_CHANGED:
            text += f" source {item.old_source or '?'} -> {item.new_source or '?'}"
        elif item.new_source and not _plain_registry(item.new_source):
            text += f" from {item.new_source}"
    if item.detail:
        text += f" ({item.detail})"
    if item.line is not None and (line or item.old_side):
        text += f" [{'old ' if item.old_side else ''}line {item.line}]"
    return text


def _plain_registry(source: str) -> bool:
    from .condense import source_identity

    identity = source_identity(source)
    return identity is not None and identity[0] == "registry"


def render_condensed(condensed: CondensedDeps) -> str:
    """One line per change, grouped by file; notes last. Empty when there is nothing to say."""
    if not condensed.items and not condensed.notes:
        return ""
    lines = ["Dependency changes, condensed from lockfiles and manifests (^ up, v down, ! source or hash):"]
    by_path: dict[str, list[DepChange]] = {}
    for item in condensed.items:
        by_path.setdefault(item.path, []).append(item)
    for path in sorted(by_path):
        lines.append(f"{path} ({by_path[path][0].ecosystem}):")
        lines.extend("  " + render_item(item) for item in by_path[path])
    for note in condensed.notes:
        lines.append(f"note: {note.path}: {note.note}")
    return "\n".join(lines) + "\n"
