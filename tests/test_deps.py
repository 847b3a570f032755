"""Condensed dependency changes from real-shaped lockfile and manifest diffs (fragments, not whole files)."""
# ruff: noqa: W293, E101  (diff fixtures: a context line of a blank line is one space; go.mod indents with tabs)

from __future__ import annotations

import re

from reviewbot.deps import ChangeKind, CondensedDeps, DepChange, condense, render_condensed, source_identity
from reviewbot.diff import parse_diff


def fix_counts(diff_text: str) -> str:
    """Recompute each hunk header's line counts from its body (the fixtures here are written by hand)."""
    out: list[str] = []
    header_at = -1
    old = new = 0

    def close() -> None:
        if header_at >= 0:
            m = re.match(r"@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)", out[header_at])
            assert m, out[header_at]
            out[header_at] = f"@@ -{m.group(1)},{old} +{m.group(2)},{new} @@{m.group(3)}"

    for line in diff_text.splitlines():
        if line.startswith("@@ "):
            close()
            header_at, old, new = len(out), 0, 0
        elif line.startswith("diff --git"):
            close()
            header_at = -1
        elif header_at >= 0:
            old += line[:1] in (" ", "-")
            new += line[:1] in (" ", "+")
        out.append(line)
    close()
    return "\n".join(out) + "\n"


def run(diff_text: str) -> CondensedDeps:
    return condense(parse_diff(fix_counts(diff_text)).files)


def summary(result: CondensedDeps) -> list[tuple[str, str, str | None, str | None]]:
    return [(i.name, i.kind.value, i.old_version, i.new_version) for i in result.items]


NPM = """\
diff --git a/package-lock.json b/package-lock.json
--- a/package-lock.json
+++ b/package-lock.json
@@ -1850,9 +1850,9 @@
       }
     },
     "node_modules/@typescript-eslint/types": {
-      "version": "8.55.0",
-      "resolved": "https://registry.npmjs.org/@typescript-eslint/types/-/types-8.55.0.tgz",
-      "integrity": "sha512-ujT0Je8GI5BJWi+/mMoR0wxwVEQaxM+pi30xuMiJETlX80OPovb2p9E8ss87gnSVtYXtJoU9U1Cowcr6w2FE0w==",
+      "version": "8.56.0",
+      "resolved": "https://registry.npmjs.org/@typescript-eslint/types/-/types-8.56.0.tgz",
+      "integrity": "sha512-DBsLPs3GsWhX5HylbP9HNG15U0bnwut55Lx12bHB9MpXxQ+R5GC8MwQe+N1UFXxAeQDvEsEDY6ZYwX03K7Z6HQ==",
       "dev": true,
       "license": "MIT",
       "engines": {
@@ -3600,6 +3600,17 @@
         "node": ">=18"
       }
     },
+    "node_modules/left-pad": {
+      "version": "1.3.0",
+      "resolved": "git+ssh://git@github.com/someone/left-pad.git#5d4f1a2",
+      "license": "WTFPL"
+    },
+    "node_modules/lodash": {
+      "version": "4.17.21",
+      "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
+      "integrity": "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==",
+      "hasInstallScript": true
+    },
     "node_modules/zod": {
       "version": "3.22.4",
       "resolved": "https://registry.npmjs.org/zod/-/zod-3.22.4.tgz",
@@ -4000,7 +4011,7 @@
     "node_modules/ms": {
       "version": "2.1.3",
       "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
-      "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==",
+      "integrity": "sha512-AAAAubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==",
       "dev": true
     },
     "node_modules/debug": {
@@ -5000,7 +5011,7 @@
     "node_modules/axios": {
       "version": "1.6.0",
-      "resolved": "https://registry.npmjs.org/axios/-/axios-1.6.0.tgz",
+      "resolved": "https://evil.example.com/axios-1.6.0.tgz",
       "integrity": "sha512-xyz",
       "dev": true
     },
"""


def test_npm_lockfile_fragments() -> None:
    result = run(NPM)
    assert summary(result) == [
        ("@typescript-eslint/types", "upgraded", "8.55.0", "8.56.0"),
        ("axios", "source-changed", "1.6.0", "1.6.0"),
        ("left-pad", "added", None, "1.3.0"),
        ("lodash", "added", None, "4.17.21"),
        ("ms", "integrity-changed", "2.1.3", "2.1.3"),
    ]
    by_name = {i.name: i for i in result.items}
    assert by_name["@typescript-eslint/types"].line == 1852  # the line naming the package (new file)
    assert by_name["left-pad"].new_source == "git+ssh://git@github.com/someone/left-pad.git#5d4f1a2"
    assert by_name["axios"].new_source == "https://evil.example.com/axios-1.6.0.tgz"
    assert len(result.covered) == 4 and result.raw == () and result.notes == ()
    text = render_condensed(result)
    assert "^ upgraded @typescript-eslint/types 8.55.0 -> 8.56.0 [line 1852]" in text
    assert "from git+ssh://git@github.com/someone/left-pad.git#5d4f1a2" in text
    assert "! integrity-changed ms 2.1.3 (hash changed, same version)" in text
    assert "+ added lodash 4.17.21 (has an install script) [line 3608]" in text  # npm runs it on install
    assert (
        "source https://registry.npmjs.org/axios/-/axios-1.6.0.tgz -> https://evil.example.com/axios-1.6.0.tgz" in text
    )


UV = """\
diff --git a/uv.lock b/uv.lock
--- a/uv.lock
+++ b/uv.lock
@@ -10,8 +10,8 @@
 [[package]]
 name = "certifi"
-version = "2024.2.2"
-source = { registry = "https://pypi.org/simple" }
-sdist = { url = "https://files.pythonhosted.org/packages/71/da/certifi-2024.2.2.tar.gz", hash = "sha256:0569" }
+version = "2023.7.22"
+source = { registry = "https://pypi.org/simple" }
+sdist = { url = "https://files.pythonhosted.org/packages/98/98/certifi-2023.7.22.tar.gz", hash = "sha256:539c" }
 wheels = [
@@ -40,6 +40,12 @@
     { url = "https://files.pythonhosted.org/packages/aa/bb/idna-3.6-py3-none-any.whl", hash = "sha256:c05" },
 ]
 
+[[package]]
+name = "mylib"
+version = "0.1.0"
+source = { git = "https://github.com/someone/mylib?rev=main#0123abc" }
+
 [[package]]
 name = "requests"
 version = "2.31.0"
"""


def test_uv_lock_downgrade_and_a_package_from_git() -> None:
    result = run(UV)
    assert summary(result) == [
        ("certifi", "downgraded", "2024.2.2", "2023.7.22"),
        ("mylib", "added", None, "0.1.0"),
    ]
    mylib = result.items[1]
    assert mylib.new_source == "git+https://github.com/someone/mylib?rev=main#0123abc" and mylib.line == 44
    assert source_identity(mylib.new_source) is not None and source_identity(mylib.new_source)[0] == "git"


POETRY = """\
diff --git a/poetry.lock b/poetry.lock
--- a/poetry.lock
+++ b/poetry.lock
@@ -100,7 +100,7 @@
 [[package]]
 name = "urllib3"
-version = "1.26.18"
+version = "2.2.1"
 description = "HTTP library with thread-safe connection pooling, file post, and more."
 optional = false
 python-versions = ">=3.8"
@@ -400,4 +400,4 @@
 [metadata]
 lock-version = "2.0"
 python-versions = "^3.10"
-content-hash = "aaaa"
+content-hash = "bbbb"
"""


def test_poetry_lock_upgrade_and_metadata_is_not_a_package() -> None:
    result = run(POETRY)
    assert summary(result) == [("urllib3", "upgraded", "1.26.18", "2.2.1")]
    assert len(result.covered) == 2


REQUIREMENTS = """\
diff --git a/requirements/base.txt b/requirements/base.txt
--- a/requirements/base.txt
+++ b/requirements/base.txt
@@ -1,8 +1,9 @@
---index-url https://pypi.org/simple
+--index-url https://pypi.internal.example/simple
 aiodns==3.2.0
-aiohappyeyeballs==2.4.0
+aiohappyeyeballs==2.6.1
     # via -r requirements/runtime-deps.in
-django==4.2.0
+django==4.1.0
+mytool @ git+https://github.com/someone/mytool@v1
 frozenlist==1.5.0 \\
-    --hash=sha256:aaaa
+    --hash=sha256:bbbb
"""


def test_pip_requirements_with_index_and_hashes() -> None:
    result = run(REQUIREMENTS)
    assert summary(result) == [
        ("(index-url)", "source-changed", None, None),
        ("aiohappyeyeballs", "upgraded", "2.4.0", "2.6.1"),
        ("django", "downgraded", "4.2.0", "4.1.0"),
        ("frozenlist", "integrity-changed", "1.5.0", "1.5.0"),
        ("mytool", "added", None, None),
    ]
    index = result.items[0]
    assert (index.old_source, index.new_source) == ("https://pypi.org/simple", "https://pypi.internal.example/simple")
    mytool = next(i for i in result.items if i.name == "mytool")
    assert mytool.new_source == "git+https://github.com/someone/mytool@v1" and mytool.line == 6


GO = """\
diff --git a/go.mod b/go.mod
--- a/go.mod
+++ b/go.mod
@@ -5,7 +5,8 @@ go 1.22
 require (
 	github.com/gorilla/mux v1.8.0
-	golang.org/x/net v0.17.0
+	golang.org/x/net v0.23.0
+	github.com/sirupsen/logrus v1.9.3 // indirect
 )
+
+replace github.com/gorilla/mux => github.com/evil/mux v1.8.1
diff --git a/go.sum b/go.sum
--- a/go.sum
+++ b/go.sum
@@ -10,4 +10,4 @@
-golang.org/x/net v0.17.0 h1:pVaXccu2ozPjCXewfr1S7xza/zcXTity9cCdXQYSjIM=
-golang.org/x/net v0.17.0/go.mod h1:NxSsAGuq816PNPmqtQdLE42eU2Fs7NoRIZrHJAlaCOE=
+golang.org/x/net v0.23.0 h1:7EYJ93RZ9vYSZAIb2x3lnuvqO5zneoD6IvWjuhfxjTs=
+golang.org/x/net v0.23.0/go.mod h1:JKghWKKOSdJwpW2GEx0Ja7fmaKnMsbu+MWVZTokSYmg=
 golang.org/x/sys v0.18.0 h1:DBdB3niSjOA/O0blCZBqDefyWNYveAYvyeu9TlDGRDY=
-golang.org/x/text v0.14.0 h1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=
+golang.org/x/text v0.14.0 h1:AAAAw1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=
"""


def test_go_mod_and_sum() -> None:
    result = run(GO)
    assert summary(result) == [
        ("github.com/gorilla/mux", "added", None, None),  # the replace directive
        ("github.com/sirupsen/logrus", "added", None, "v1.9.3"),
        ("golang.org/x/net", "upgraded", "v0.17.0", "v0.23.0"),
        ("golang.org/x/text", "integrity-changed", "v0.14.0", "v0.14.0"),
    ]
    replace = result.items[0]
    assert replace.new_source == "github.com/evil/mux v1.8.1"
    net = next(i for i in result.items if i.name == "golang.org/x/net")
    assert (net.path, net.line) == ("go.mod", 7)  # go.sum says it too: the manifest's line is kept


CARGO = """\
diff --git a/Cargo.lock b/Cargo.lock
--- a/Cargo.lock
+++ b/Cargo.lock
@@ -200,9 +200,9 @@ dependencies = [
 
 [[package]]
 name = "serde"
-version = "1.0.195"
+version = "1.0.197"
 source = "registry+https://github.com/rust-lang/crates.io-index"
-checksum = "63261df402c67811e9ac6def069e4786148c4563f4b50fd4bf30aa370d626b02"
+checksum = "3fb1c873e1b9b056a4dc4c0c198b24c3ffa059243875552b2bd0933b1aee4ce2"
 dependencies = [
  "serde_derive",
 ]
@@ -300,7 +300,7 @@
 name = "tokio"
 version = "1.36.0"
-source = "registry+https://github.com/rust-lang/crates.io-index"
+source = "git+https://github.com/someone/tokio?branch=fix#abcdef0"
 dependencies = [
  "bytes",
 ]
"""


def test_cargo_lock() -> None:
    result = run(CARGO)
    assert summary(result) == [
        ("serde", "upgraded", "1.0.195", "1.0.197"),
        ("tokio", "source-changed", "1.36.0", "1.36.0"),
    ]


CORRUPT_CARGO_LOCK = """\
diff --git a/Cargo.lock b/Cargo.lock
--- a/Cargo.lock
+++ b/Cargo.lock
@@ -1,3 +1,16 @@
+<<<<<<< HEAD
+garbage line one
+garbage line two
+garbage line three
+garbage line four
+garbage line five
+garbage line six
+garbage line seven
+garbage line eight
+garbage line nine
+garbage line ten
+garbage line eleven
+>>>>>>> branch
 # This file is automatically @generated by Cargo.
 # It is not intended for manual editing.
 version = 3
"""  # a merge conflict left in a lockfile: no parser reads it


def test_corrupt_lockfile_falls_back_to_raw_hunks_with_a_note() -> None:
    corrupt = CORRUPT_CARGO_LOCK
    result = run(corrupt)
    (hunk,) = parse_diff(fix_counts(corrupt)).hunks
    assert result.items == () and result.covered == () and result.raw == (hunk.id,)
    assert [(n.path, n.hunk_ids) for n in result.notes] == [("Cargo.lock", (hunk.id,))]
    assert "sent as raw hunks" in render_condensed(result)


def test_a_few_unnamed_lines_are_shown_as_they_are_never_dropped() -> None:
    text = """\
diff --git a/package-lock.json b/package-lock.json
--- a/package-lock.json
+++ b/package-lock.json
@@ -935,6 +935,7 @@
       "integrity": "sha512-ODsoD39Lq6vR6aBgvjTnA3nZGliknKboc9Gtxr7E4WDNqY24MxANKcuDQSF0jzapvGb3KWOEDrKfve4HoWGK+g==",
       "dev": true,
       "license": "MIT",
+      "hasInstallScript": true,
       "dependencies": {
         "@octokit/auth-token": "^6.0.0",
         "@octokit/graphql": "^9.0.1",
"""
    result = run(text)
    (item,) = result.items
    assert (item.kind, item.line, item.detail) == (ChangeKind.CHANGED, 938, '+"hasInstallScript": true,')
    assert result.raw == () and len(result.covered) == 1


def test_other_files_are_ignored_and_items_are_sorted_frozen_values() -> None:
    text = NPM + "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-a\n+b\n"
    result = run(text)
    assert result.files == ("package-lock.json",)
    assert list(result.items) == sorted(result.items, key=DepChange.sort_key)
    assert run(text) == result


def test_yarn_pnpm_gemfile_and_composer_fragments() -> None:
    text = """\
diff --git a/yarn.lock b/yarn.lock
--- a/yarn.lock
+++ b/yarn.lock
@@ -10,7 +10,7 @@
 
 "@babel/core@^7.0.0", "@babel/core@^7.1.0":
-  version "7.23.0"
-  resolved "https://registry.yarnpkg.com/@babel/core/-/core-7.23.0.tgz#aaa"
-  integrity sha512-aaa
+  version "7.24.0"
+  resolved "https://registry.yarnpkg.com/@babel/core/-/core-7.24.0.tgz#bbb"
+  integrity sha512-bbb
   dependencies:
diff --git a/pnpm-lock.yaml b/pnpm-lock.yaml
--- a/pnpm-lock.yaml
+++ b/pnpm-lock.yaml
@@ -40,4 +40,4 @@ packages:
 
-  /debug@4.3.4:
-    resolution: {integrity: sha512-old}
+  /debug@4.3.5:
+    resolution: {integrity: sha512-new}
     engines: {node: '>=6.0'}
diff --git a/Gemfile.lock b/Gemfile.lock
--- a/Gemfile.lock
+++ b/Gemfile.lock
@@ -20,7 +20,7 @@ GEM
     nokogiri (1.16.2)
       mini_portile2 (~> 2.8.2)
       racc (~> 1.4)
-    rack (3.0.8)
+    rack (3.0.9.1)
     rails (7.1.3)
       actioncable (= 7.1.3)
       actionmailbox (= 7.1.3)
diff --git a/composer.lock b/composer.lock
--- a/composer.lock
+++ b/composer.lock
@@ -100,7 +100,7 @@
         {
             "name": "monolog/monolog",
-            "version": "3.5.0",
+            "version": "3.4.0",
             "source": {
                 "type": "git",
                 "url": "https://github.com/Seldaek/monolog.git",
"""
    assert summary(run(text)) == [  # sorted by file: Gemfile.lock, composer.lock, pnpm-lock.yaml, yarn.lock
        ("rack", "upgraded", "3.0.8", "3.0.9.1"),
        ("monolog/monolog", "downgraded", "3.5.0", "3.4.0"),
        ("debug", "upgraded", "4.3.4", "4.3.5"),
        ("@babel/core", "upgraded", "7.23.0", "7.24.0"),
    ]
