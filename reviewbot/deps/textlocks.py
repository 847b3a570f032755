"""Line-oriented lockfiles and manifests: yarn.lock, pnpm-lock.yaml, Gemfile.lock, go.mod, go.sum,
requirements*.txt.

yarn.lock (v1) and Gemfile.lock have no parser in the standard library or a well-kept package, and
a pnpm-lock.yaml fragment is not a YAML document; their package blocks are simple (a header line,
indented fields), so a few regular expressions read them. Requirement lines are parsed with
``packaging.requirements.Requirement``.
"""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .entries import Entry, SideLine, SideResult, indent_of

# ---------------------------------------------------------------- yarn.lock (v1 and berry)
_YARN_FIELD = re.compile(
    r'^\s+(version|resolved|integrity|resolution|checksum|languageName|linkType)[:\s]\s*"?([^"]*)"?\s*$'
)


def _yarn_name(spec: str) -> str:
    spec = spec.strip().strip('"')
    at = spec.find("@", 1)
    name = spec[:at] if at > 0 else spec
    return name


def parse_yarn_side(lines: list[SideLine]) -> SideResult:
    result = SideResult()
    current: Entry | None = None
    for line in lines:
        text = line.text
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        if indent_of(text) == 0 and text.rstrip().endswith(":"):
            header = text.rstrip()[:-1]
            name = _yarn_name(header.split(",")[0])
            current = Entry(key=header, name=name, line=line.number, changed=line.changed)
            if header.startswith("__metadata"):
                current.pseudo = True
            result.entries.append(current)
            continue
        if current is None:
            result.lost(line)
            continue
        current.changed = current.changed or line.changed
        field = _YARN_FIELD.match(text)
        if field and indent_of(text) <= 2:
            key, value = field.groups()
            if key == "version":
                current.version = value
            elif key in ("resolved", "resolution"):
                current.source = value
            elif key in ("integrity", "checksum"):
                current.integrity = value
            else:
                current.other[key] = value
        else:
            current.other["dependencies"] = current.other.get("dependencies", "") + text.strip() + ";"
    return result


# ---------------------------------------------------------------- pnpm-lock.yaml
_PNPM_KEY = re.compile(r"""^\s{2}['"]?/?((?:@[^/@\s'"]+/)?[^@\s'"/]+)@([^:'"(\s]+)""")
_PNPM_INTEGRITY = re.compile(r"integrity:\s*([^,}\s]+)")
_PNPM_TARBALL = re.compile(r"tarball:\s*([^,}\s]+)")


def parse_pnpm_side(lines: list[SideLine]) -> SideResult:
    result = SideResult()
    current: Entry | None = None
    section = ""
    for line in lines:
        text = line.text
        if not text.strip():
            continue
        depth = indent_of(text)
        if depth == 0:
            section = text.strip().rstrip(":")
            current = Entry(key=f"[{section}]", name=section, pseudo=True, changed=line.changed)
            result.entries.append(current)
            continue
        key = _PNPM_KEY.match(text) if depth == 2 and section in ("", "packages", "snapshots") else None
        if key:
            name, version = key.groups()
            current = Entry(
                key=f"{section}:{name}@{version}", name=name, version=version, line=line.number, changed=line.changed
            )
            result.entries.append(current)
            continue
        if depth == 2:  # importers, dependencies of the root project: attributed, not reported
            current = Entry(key=f"{section}:{text.strip()}", name=text.strip(), pseudo=True, changed=line.changed)
            result.entries.append(current)
            continue
        if current is None:
            result.lost(line)
            continue
        current.changed = current.changed or line.changed
        integrity = _PNPM_INTEGRITY.search(text)
        tarball = _PNPM_TARBALL.search(text)
        if integrity:
            current.integrity = integrity.group(1)
        if tarball:
            current.source = tarball.group(1)
        if not integrity and not tarball:
            current.other[text.strip().split(":", 1)[0]] = text.strip()
    for entry in result.entries:  # several versions of one package: keep them apart
        if not entry.pseudo:
            entry.key = entry.key.replace("snapshots:", "packages:")
    return result


# ---------------------------------------------------------------- Gemfile.lock
_GEM_SPEC = re.compile(r"^ {4}([A-Za-z0-9_.-]+) \(([^)]+)\)\s*$")


def parse_gemfile_side(lines: list[SideLine]) -> SideResult:
    result = SideResult()
    current: Entry | None = None
    section = Entry(key="[?]", name="?", pseudo=True)
    remote: str | None = None
    for line in lines:
        text = line.text
        if not text.strip():
            continue
        if indent_of(text) == 0:
            section = Entry(key=f"[{text.strip()}]", name=text.strip(), pseudo=True, changed=line.changed)
            result.entries.append(section)
            current, remote = None, None
            continue
        if text.strip().startswith(("remote:", "revision:")):
            remote = text.strip()
            section.changed = section.changed or line.changed
            continue
        spec = _GEM_SPEC.match(text)
        if spec and section.name in ("GEM", "GIT", "PATH", "?"):
            name, version = spec.groups()
            current = Entry(key=name, name=name, version=version, source=remote, line=line.number, changed=line.changed)
            result.entries.append(current)
            continue
        owner = current if current is not None and indent_of(text) >= 6 else section
        owner.changed = owner.changed or line.changed
        if owner is current:
            owner.other["dependencies"] = owner.other.get("dependencies", "") + text.strip() + ";"
        elif section.key == "[?]":
            result.lost(line)
    return result


# ---------------------------------------------------------------- go.mod / go.sum
_GOMOD_REQ = re.compile(r"^\s*(?:require\s+)?([^\s()]+)\s+(v[^\s]+)(\s*//\s*indirect)?\s*$")
_GOMOD_REPLACE = re.compile(r"^\s*(?:replace\s+)?([^\s()]+)(?:\s+v[^\s]+)?\s+=>\s+([^\s]+)(?:\s+(v[^\s]+))?\s*$")
_GOSUM = re.compile(r"^\s*([^\s]+)\s+(v[^\s/]+)(/go\.mod)?\s+(h1:[^\s]+)\s*$")


def parse_gomod_side(lines: list[SideLine]) -> SideResult:
    result = SideResult()
    for line in lines:
        text = line.text.split("//")[0] if "=>" not in line.text else line.text
        replace = _GOMOD_REPLACE.match(text)
        if replace:
            module, target, version = replace.groups()
            source = target + (f" {version}" if version else "")
            result.entries.append(
                Entry(key=f"replace {module}", name=module, source=source, line=line.number, changed=line.changed)
            )
            continue
        req = _GOMOD_REQ.match(line.text)
        if req and not line.text.strip().startswith(("module ", "go ", "toolchain ")):
            module, version, indirect = req.groups()
            entry = Entry(key=module, name=module, version=version, line=line.number, changed=line.changed)
            if indirect:
                entry.other["indirect"] = "true"
            result.entries.append(entry)
            continue
        stripped = line.text.strip()
        if not stripped.startswith(("module ", "go ", "toolchain ", "require", "replace", "exclude", "retract", "//")):
            result.lost(line)
    return result


def parse_gosum_side(lines: list[SideLine]) -> SideResult:
    result = SideResult()
    by_key: dict[str, Entry] = {}
    for line in lines:
        match = _GOSUM.match(line.text)
        if not match:
            result.lost(line)
            continue
        module, version, gomod, digest = match.groups()
        key = f"{module}@{version}"
        entry = by_key.get(key)
        if entry is None:
            entry = by_key[key] = Entry(key=key, name=module, version=version, line=line.number)
            result.entries.append(entry)
        entry.changed = entry.changed or line.changed
        field = "go.mod" if gomod else "zip"
        entry.other[field] = digest
        entry.integrity = ",".join(f"{k}={v}" for k, v in sorted(entry.other.items()))
    for entry in result.entries:
        entry.other.clear()
    return result


# ---------------------------------------------------------------- requirements*.txt
_HASH = re.compile(r"--hash[=\s]+(\S+)")
_OPTION = re.compile(r"^(-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host)[=\s]+(\S+)")


def parse_requirements_side(lines: list[SideLine]) -> SideResult:
    result = SideResult()
    logical: list[tuple[str, SideLine, bool]] = []  # (joined text, first line, any changed)
    pending: tuple[str, SideLine, bool] | None = None
    for line in lines:
        text = line.text.split(" #")[0].strip() if not line.text.lstrip().startswith("#") else ""
        if pending is not None:
            joined, first, changed = pending
            pending = None
            logical_text = joined + " " + text.rstrip("\\").strip()
            item = (logical_text, first, changed or line.changed)
            if text.endswith("\\"):
                pending = item
            else:
                logical.append(item)
            continue
        if not text:
            continue
        if text.startswith("--hash"):  # the requirement this hash belongs to is not in the fragment
            result.lost(line)
            continue
        item = (text.rstrip("\\").strip(), line, line.changed)
        if text.endswith("\\"):
            pending = item
        else:
            logical.append(item)
    if pending is not None:
        logical.append(pending)
    for text, first, changed in logical:
        entry = _requirement(text, first, changed)
        if entry is None:
            if changed:
                result.unattributed.append(SideLine(text, first.number, True))
        else:
            result.entries.append(entry)
    return result


def _requirement(text: str, line: SideLine, changed: bool) -> Entry | None:
    option = _OPTION.match(text)
    if option:
        name = f"({option.group(1).lstrip('-')})"
        return Entry(
            key=f"{name} {option.group(2)}", name=name, source=option.group(2), line=line.number, changed=changed
        )
    if text.startswith(("-r", "-c", "--requirement", "--constraint", "--pre", "--no-binary", "--only-binary")):
        return Entry(key=text, name=text, pseudo=True, line=line.number, changed=changed)
    hashes = sorted(_HASH.findall(text))
    text = _HASH.sub("", text).strip()
    if text.startswith(("-e ", "--editable ")):
        url = text.split(None, 1)[1]
        egg = re.search(r"#egg=([A-Za-z0-9_.-]+)", url)
        if egg is None:
            return None
        name = canonicalize_name(egg.group(1))
        return Entry(key=name, name=name, source=url, line=line.number, changed=changed)
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None
    name = canonicalize_name(req.name)
    specs = list(req.specifier)
    version = specs[0].version if len(specs) == 1 and specs[0].operator in ("==", "===") else None
    entry = Entry(key=name, name=name, version=version, source=req.url, line=line.number, changed=changed)
    if version is None and str(req.specifier):
        entry.other["specifier"] = str(req.specifier)
    if req.marker is not None:
        entry.other["marker"] = str(req.marker)
    if req.extras:
        entry.other["extras"] = ",".join(sorted(req.extras))
    if hashes:
        entry.integrity = ",".join(hashes)
    return entry
