"""parse_diff: git diffs and plain unified diffs into Hunks and skipped items."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unidiff.patch import PatchSet

from reviewbot.diff import guess_language, parse_diff
from reviewbot.diff.paths import split_git_header, strip_prefixes, unquote
from reviewbot.errors import DiffParseError, InputError
from reviewbot.models import Diff, FileStatus, SkipReason, hunk_id

MODIFIED = b"""\
diff --git a/src/app/db.py b/src/app/db.py
index 1111111..2222222 100644
--- a/src/app/db.py
+++ b/src/app/db.py
@@ -10,6 +10,7 @@ class Store:
     def find(self, name):
         cur = self.conn.cursor()
-        cur.execute("SELECT * FROM users WHERE name = ?", (name,))
+        query = "SELECT * FROM users WHERE name = '%s'" % name
+        cur.execute(query)
         return cur.fetchall()
\x20
     def close(self):
@@ -40,4 +41,3 @@ def helper():
     a = 1
-    b = 2
     c = 3
     return a + c
diff --git a/README.md b/README.md
index 3333333..4444444 100644
--- a/README.md
+++ b/README.md
@@ -1,2 +1,3 @@
 # Title
+More words.
 End.
"""


def one_skip(diff: Diff) -> tuple[str, SkipReason, str]:
    assert diff.files == ()
    assert len(diff.skipped) == 1
    item = diff.skipped[0]
    assert item.hunk_id is None
    return item.path, item.reason, item.detail


# --- empty input and bad input -------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", "", b"   \n\n\t\n", "\r\n"])
def test_empty_input_is_an_empty_diff_not_an_error(data: bytes | str) -> None:
    assert parse_diff(data) == Diff(files=())


def test_text_that_is_not_a_diff_names_the_origin() -> None:
    with pytest.raises(DiffParseError) as info:
        parse_diff(b"Dear reviewer,\nplease look at my code.\n", origin="examples/x.txt")
    assert info.value.message == "examples/x.txt: not a unified diff (no file header or hunk found)"
    assert info.value.hint
    assert isinstance(info.value, InputError)
    assert "\n" not in info.value.message


def test_truncated_hunk_names_the_hunk_line_and_how_many_lines_are_missing() -> None:
    cut = MODIFIED.split(b"-        cur.execute")[
        0
    ]  # stops after 2 of the hunk's lines: 4 old and 5 new ones are missing
    with pytest.raises(DiffParseError) as info:
        parse_diff(cut, origin="cut.diff")
    assert info.value.message == "cut.diff: truncated hunk at line 5: expected 5 more lines"


def test_hunk_interrupted_by_the_next_file_is_truncated_before_that_line() -> None:
    data = (
        b"--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n"
        b"diff --git a/y.py b/y.py\n--- a/y.py\n+++ b/y.py\n@@ -1 +1 @@\n-q\n+r\n"
    )
    with pytest.raises(DiffParseError) as info:
        parse_diff(data, origin="p")
    assert info.value.message == "p: truncated hunk at line 3: expected 1 more line before line 7"


def test_hunk_longer_than_its_header_is_refused_not_silently_cut() -> None:
    data = b"--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n+os.system(cmd)\n"
    with pytest.raises(DiffParseError) as info:
        parse_diff(data, origin="p")
    assert info.value.message == "p: hunk at line 3 has more lines than its header declares (line 7)"


def test_hunk_overflowing_one_side_of_its_header_is_refused() -> None:
    data = b"--- a/x.py\n+++ b/x.py\n@@ -1,1 +1,2 @@\n-a\n-b\n+c\n"
    with pytest.raises(DiffParseError) as info:
        parse_diff(data, origin="p")
    assert info.value.message == "p: hunk at line 3 has more lines than its header declares (line 5)"


def test_line_without_a_prefix_inside_a_hunk_ends_it_too_early() -> None:
    with pytest.raises(DiffParseError) as info:
        parse_diff(b"--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\nb\n c\n", origin="p")
    assert info.value.message == "p: truncated hunk at line 3: expected 2 more lines before line 5"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", "'+++' file header without a matching '---' header at line 1"),
        (b"x\n\\ No newline at end of file\n", "'\\ No newline at end of file' outside a hunk at line 2"),
        (b"new file mode 100644\n", "'new file mode' outside a file header at line 1"),
        (b"GIT binary patch\n", "'GIT binary patch' outside a file header at line 1"),
    ],
)
def test_misplaced_diff_lines_are_named(data: bytes, message: str) -> None:
    with pytest.raises(DiffParseError) as info:
        parse_diff(data, origin="p")
    assert info.value.message == f"p: {message}"


def test_file_header_without_hunks_or_with_an_empty_hunk_is_skipped_as_empty() -> None:
    for data in (b"--- a/x\n+++ b/x\n", b"--- a/x\n+++ b/x\n@@ -1,0 +1,0 @@\n"):
        assert one_skip(parse_diff(data)) == ("x", SkipReason.EMPTY, "no content changes")


def test_hunk_without_file_header_names_its_line() -> None:
    with pytest.raises(DiffParseError) as info:
        parse_diff(b"some words\n@@ -1 +1 @@\n-a\n+b\n", origin="p")
    assert info.value.message == "p: hunk without a file header at line 2"


def test_format_patch_signature_after_the_last_hunk_is_not_an_error() -> None:
    data = (
        b"From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] fix\n\n---\n x.py | 2 +-\n\n"
        b"diff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
        b"-- \n2.39.5\n\n"
    )
    diff = parse_diff(data)
    assert [h.path for h in diff.hunks] == ["x.py"]


# --- the hunk model ------------------------------------------------------------------------------


def test_modified_files_keep_order_ranges_line_numbers_and_commentable_lines() -> None:
    diff = parse_diff(MODIFIED)
    assert [f.path for f in diff.files] == ["src/app/db.py", "README.md"]
    assert diff.skipped == ()
    first, second = diff.files[0].hunks
    assert (first.old_start, first.old_len, first.new_start, first.new_len) == (10, 6, 10, 7)
    assert first.section == "class Store:"
    assert first.status is FileStatus.MODIFIED and first.old_path is None
    assert first.language == "python" and diff.files[1].hunks[0].language == "markdown"
    assert [(ln.kind, ln.old_no, ln.new_no) for ln in first.lines] == [
        (" ", 10, 10),
        (" ", 11, 11),
        ("-", 12, None),
        ("+", None, 12),
        ("+", None, 13),
        (" ", 13, 14),
        (" ", 14, 15),
        (" ", 15, 16),
    ]
    assert first.lines[3].text == "        query = \"SELECT * FROM users WHERE name = '%s'\" % name"
    assert first.lines[6].text == ""  # an empty context line: just the leading space
    assert first.commentable == frozenset(range(10, 17))
    assert (first.added, first.removed) == (2, 1)
    # The second hunk of the same file removes a line: kept, and its new-side lines are commentable.
    assert (second.old_start, second.new_start, second.new_len) == (40, 41, 3)
    assert second.commentable == frozenset({41, 42, 43})
    assert [ln.kind for ln in second.lines] == [" ", "-", " ", " "]


def test_hunk_ids_are_stable_distinct_and_follow_the_model_helper() -> None:
    ids = [h.id for h in parse_diff(MODIFIED).hunks]
    assert ids == [h.id for h in parse_diff(MODIFIED.decode()).hunks]  # bytes or str, same ids
    assert len(set(ids)) == 3
    for h in parse_diff(MODIFIED).hunks:
        assert h.id == hunk_id(h.path, h.header, h.body())
    changed = MODIFIED.replace(b"More words.", b"More words!")
    assert [h.id for h in parse_diff(changed).hunks][:2] == ids[:2]
    assert [h.id for h in parse_diff(changed).hunks][2] != ids[2]


def test_pure_removal_hunk_in_a_modified_file_is_kept_with_no_commentable_line() -> None:
    data = b"--- a/auth.py\n+++ b/auth.py\n@@ -3,2 +2,0 @@ def check():\n-    if not token:\n-        raise Denied\n"
    (hunk,) = parse_diff(data).hunks
    assert hunk.commentable == frozenset()
    assert hunk.removed == 2 and hunk.status is FileStatus.MODIFIED
    assert [ln.old_no for ln in hunk.lines] == [3, 4]


def test_header_without_counts_means_one_line() -> None:
    (hunk,) = parse_diff(b"--- a/x\n+++ b/x\n@@ -7 +7 @@\n-a\n+b\n").hunks
    assert (hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len) == (7, 1, 7, 1)
    assert hunk.header == "@@ -7,1 +7,1 @@"


# --- file kinds ----------------------------------------------------------------------------------


def test_rename_with_changes_is_reviewed_under_the_new_path_with_the_old_one_kept() -> None:
    data = (
        b"diff --git a/auth/login.py b/web/login.py\nsimilarity index 90%\n"
        b"rename from auth/login.py\nrename to web/login.py\nindex 1..2 100644\n"
        b"--- a/auth/login.py\n+++ b/web/login.py\n@@ -1,2 +1,2 @@\n def login():\n-    check()\n+    pass\n"
    )
    diff = parse_diff(data)
    (file,) = diff.files
    assert (file.path, file.old_path, file.status) == ("web/login.py", "auth/login.py", FileStatus.RENAMED)
    (hunk,) = file.hunks
    assert (hunk.path, hunk.old_path, hunk.status) == ("web/login.py", "auth/login.py", FileStatus.RENAMED)


def test_rename_without_changes_is_a_file_level_skip() -> None:
    data = b"diff --git a/old.py b/new.py\nsimilarity index 100%\nrename from old.py\nrename to new.py\n"
    assert one_skip(parse_diff(data)) == (
        "new.py",
        SkipReason.RENAME_ONLY,
        "renamed from old.py without changes",
    )


def test_copy_with_and_without_changes() -> None:
    data = (
        b"diff --git a/orig.c b/copy.c\nsimilarity index 100%\ncopy from orig.c\ncopy to copy.c\n"
        b"diff --git a/keep.py b/next.py\nsimilarity index 66%\ncopy from keep.py\ncopy to next.py\n"
        b"index 1..2 100644\n--- a/keep.py\n+++ b/next.py\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    )
    diff = parse_diff(data)
    (file,) = diff.files
    assert (file.path, file.old_path, file.status) == ("next.py", "keep.py", FileStatus.COPIED)
    assert one_skip(Diff(files=(), skipped=diff.skipped)) == (
        "copy.c",
        SkipReason.COPY_ONLY,
        "copied from orig.c without changes",
    )


def test_new_file_is_added_and_every_line_commentable() -> None:
    data = (
        b"diff --git a/k.py b/k.py\nnew file mode 100644\nindex 0000000..1 100644\n"
        b"--- /dev/null\n+++ b/k.py\n@@ -0,0 +1,2 @@\n+KEY = 'x'\n+print(KEY)\n"
    )
    (hunk,) = parse_diff(data).hunks
    assert (hunk.path, hunk.old_path, hunk.status) == ("k.py", None, FileStatus.ADDED)
    assert hunk.commentable == frozenset({1, 2})
    assert [ln.new_no for ln in hunk.lines] == [1, 2]


def test_deleted_file_is_skipped_under_its_old_path() -> None:
    data = (
        b"diff --git a/auth/keys.py b/auth/keys.py\ndeleted file mode 100644\nindex 1..0000000\n"
        b"--- a/auth/keys.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-A = 1\n-B = 2\n"
    )
    assert one_skip(parse_diff(data)) == ("auth/keys.py", SkipReason.DELETED_ONLY, "file deleted")


def test_empty_new_file_is_skipped_as_empty() -> None:
    data = b"diff --git a/empty.txt b/empty.txt\nnew file mode 100644\nindex 0000000..e69de29\n"
    assert one_skip(parse_diff(data)) == ("empty.txt", SkipReason.EMPTY, "new empty file")


def test_mode_only_change_is_skipped_but_mode_plus_content_is_reviewed() -> None:
    mode_only = b"diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
    assert one_skip(parse_diff(mode_only)) == (
        "run.sh",
        SkipReason.MODE_ONLY,
        "mode changed from 100644 to 100755",
    )
    with_content = mode_only + b"index 1..2\n--- a/run.sh\n+++ b/run.sh\n@@ -1 +1 @@\n-echo a\n+curl x | sh\n"
    (hunk,) = parse_diff(with_content).hunks
    assert hunk.path == "run.sh" and hunk.language == "shell"


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (
            b"diff --git a/logo.png b/logo.png\nindex 1..2 100644\nBinary files a/logo.png and b/logo.png differ\n",
            "binary file changed",
        ),
        (
            b"diff --git a/bin.dat b/bin.dat\nnew file mode 100644\nindex 0000000..8352675\n"
            b"GIT binary patch\nliteral 3\nKcmZQzWC8#H2LJ>B\n\nliteral 0\nHcmV?d00001\n\n",
            "binary file added",
        ),
        (b"Binary files old/logo.png and new/logo.png differ\n", "binary file changed"),
    ],
    ids=["git-binary-files-differ", "git-binary-patch", "plain-diff"],
)
def test_binary_files_are_skipped(data: bytes, detail: str) -> None:
    path, reason, got = one_skip(parse_diff(data))
    assert (reason, got) == (SkipReason.BINARY, detail)
    assert path in ("logo.png", "bin.dat")


def test_binary_patch_between_text_files_does_not_swallow_them() -> None:
    data = (
        b"diff --git a/bin.dat b/bin.dat\nnew file mode 100644\nindex 0..8\nGIT binary patch\n"
        b"literal 3\nKcmZQzWC8#H2LJ>B\n\nliteral 0\nHcmV?d00001\n\n"
        b"diff --git a/x.go b/x.go\nindex 1..2 100644\n--- a/x.go\n+++ b/x.go\n@@ -1 +1 @@\n-a\n+b\n"
    )
    diff = parse_diff(data)
    assert [h.path for h in diff.hunks] == ["x.go"]
    assert [(s.path, s.reason) for s in diff.skipped] == [("bin.dat", SkipReason.BINARY)]


def test_no_newline_marker_is_not_a_line() -> None:
    data = (
        b"--- a/x.txt\n+++ b/x.txt\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
        b"\\ No newline at end of file\n"
    )
    (hunk,) = parse_diff(data).hunks
    assert [(ln.kind, ln.text) for ln in hunk.lines] == [(" ", "a"), ("-", "b"), ("+", "b")]
    assert hunk.commentable == frozenset({1, 2})


def test_crlf_line_endings_lose_the_cr_and_nothing_else() -> None:
    data = b"--- a/w.bat\r\n+++ b/w.bat\r\n@@ -1,3 +1,3 @@ :main\r\n echo on  \r\n-set A=1\r\n+set A=2\rX\r\n\r\n"
    (hunk,) = parse_diff(data).hunks
    assert hunk.path == "w.bat" and hunk.section == ":main"
    assert [(ln.kind, ln.text) for ln in hunk.lines] == [
        (" ", "echo on  "),  # trailing spaces kept
        ("-", "set A=1"),
        ("+", "set A=2\rX"),  # a CR inside the line is content
        (" ", ""),  # an empty CRLF context line
    ]


def test_non_utf8_bytes_are_replaced_never_an_error() -> None:
    data = b"--- a/caf\xe9.txt\n+++ b/caf\xe9.txt\n@@ -1 +1 @@\n-na\xefve\n+\xff\xfe bytes\n"
    (hunk,) = parse_diff(data).hunks
    assert hunk.path == "caf\ufffd.txt"
    assert [ln.text for ln in hunk.lines] == ["na\ufffdve", "\ufffd\ufffd bytes"]


def test_paths_with_spaces_even_when_they_look_like_a_second_name() -> None:
    data = (
        b"diff --git a/sp ace.txt b/sp ace.txt\nindex 1..2 100644\n--- a/sp ace.txt\t\n+++ b/sp ace.txt\t\n"
        b"@@ -1 +1,2 @@\n hello\n+world\n"
        b"diff --git a/foo b/bar.txt b/foo b/bar.txt\nindex 1..2 100644\n"
        b"--- a/foo b/bar.txt\t\n+++ b/foo b/bar.txt\t\n@@ -1 +1,2 @@\n z\n+w\n"
    )
    diff = parse_diff(data)
    assert [f.path for f in diff.files] == ["sp ace.txt", "foo b/bar.txt"]
    assert [f.status for f in diff.files] == [FileStatus.MODIFIED, FileStatus.MODIFIED]


def test_git_quoted_non_ascii_paths_are_decoded() -> None:
    data = (
        b'diff --git "a/r\\303\\251sum\\303\\251.txt" "b/r\\303\\251sum\\303\\251.txt"\n'
        b"new file mode 100644\nindex 0000000..9a6c8d1\n"
        b'--- /dev/null\n+++ "b/r\\303\\251sum\\303\\251.txt"\n@@ -0,0 +1 @@\n+r2\n'
        b'diff --git "a/old \\"q\\".py" "b/new\\tname.py"\nsimilarity index 100%\n'
        b'rename from "old \\"q\\".py"\nrename to "new\\tname.py"\n'
    )
    diff = parse_diff(data)
    assert [f.path for f in diff.files] == ["résumé.txt"]
    assert one_skip(Diff(files=(), skipped=diff.skipped)) == (
        "new\tname.py",
        SkipReason.RENAME_ONLY,
        'renamed from old "q".py without changes',
    )


def test_submodule_changes_are_skipped_with_both_commits() -> None:
    update = (
        b"diff --git a/lib/sub b/lib/sub\nindex b625ed7..fc34119 160000\n--- a/lib/sub\n+++ b/lib/sub\n"
        b"@@ -1 +1 @@\n-Subproject commit b625ed7729b43f34d56251d312359654e1a9ab9e\n"
        b"+Subproject commit fc341196944f3a36122f18138c7cfd96a0e05f1a\n"
    )
    assert one_skip(parse_diff(update)) == (
        "lib/sub",
        SkipReason.SUBMODULE,
        "submodule updated (b625ed7729b4 -> fc341196944f)",
    )
    added = (
        b"diff --git a/vendor/x b/vendor/x\nnew file mode 160000\nindex 0000000..fc34119\n"
        b"--- /dev/null\n+++ b/vendor/x\n@@ -0,0 +1 @@\n"
        b"+Subproject commit fc341196944f3a36122f18138c7cfd96a0e05f1a\n"
    )
    assert one_skip(parse_diff(added)) == (
        "vendor/x",
        SkipReason.SUBMODULE,
        "submodule added (- -> fc341196944f)",
    )
    # A plain diff has no modes: the content alone tells.
    plain = update.split(b"\n", 2)[2]
    assert one_skip(parse_diff(plain))[1] is SkipReason.SUBMODULE


def test_plain_unified_diff_with_timestamps_and_directory_prefixes() -> None:
    data = (
        b"diff -ruN old/src/a.c new/src/a.c\n"
        b"--- old/src/a.c\t2024-01-01 10:00:00.000000000 +0000\n"
        b"+++ new/src/a.c\t2024-01-02 10:00:00.000000000 +0000\n"
        b"@@ -1 +1 @@\n-int a;\n+int b;\n"
        b"--- /dev/null\t1970-01-01 00:00:00.000000000 +0000\n"
        b"+++ new/src/b.c\t2024-01-02 10:00:00.000000000 +0000\n"
        b"@@ -0,0 +1 @@\n+int c;\n"
    )
    diff = parse_diff(data)
    assert [(f.path, f.status) for f in diff.files] == [
        ("src/a.c", FileStatus.MODIFIED),
        ("new/src/b.c", FileStatus.ADDED),
    ]
    assert diff.files[0].language == "c"


def test_skipped_items_are_sorted_whatever_the_diff_order() -> None:
    parts = [
        b"diff --git a/z.png b/z.png\nindex 1..2 100644\nBinary files a/z.png and b/z.png differ\n",
        b"diff --git a/a.sh b/a.sh\nold mode 100644\nnew mode 100755\n",
        b"diff --git a/m.txt b/m.txt\nnew file mode 100644\nindex 0000000..e69de29\n",
    ]
    forward = parse_diff(b"".join(parts)).skipped
    backward = parse_diff(b"".join(reversed(parts))).skipped
    assert forward == backward
    assert [s.path for s in forward] == ["a.sh", "m.txt", "z.png"]


def test_several_files_and_hunks_are_all_accounted_for() -> None:
    chunks = []
    for i in range(30):
        chunks.append(f"diff --git a/f{i}.py b/f{i}.py\nindex 1..2 100644\n--- a/f{i}.py\n+++ b/f{i}.py\n")
        for j in range(3):
            chunks.append(f"@@ -{10 * j + 1},2 +{10 * j + 1},2 @@\n x\n-old{j}\n+new{j}\n")
    diff = parse_diff("".join(chunks))
    assert len(diff.files) == 30 and len(diff.hunks) == 90
    assert len({h.id for h in diff.hunks}) == 90
    assert [h.lines[2].text for h in diff.files[7].hunks] == ["new0", "new1", "new2"]


# --- helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "name"),
    [
        ('"a/r\\303\\251.txt"', "a/ré.txt"),
        ('"tab\\there"', "tab\there"),
        ('"q\\"uote\\\\"', 'q"uote\\'),
        ('"bad\\377utf8"', "bad\ufffdutf8"),
        ("plain name.txt", "plain name.txt"),
        ('"\\x"', "\\x"),
    ],
)
def test_unquote(token: str, name: str) -> None:
    assert unquote(token) == name


def test_split_git_header() -> None:
    assert split_git_header("a/x y b/x y\n") == ("a/x y", "b/x y")
    assert split_git_header("a/foo b/bar b/foo b/bar") == ("a/foo b/bar", "b/foo b/bar")
    assert split_git_header('"a/\\303\\251" "b/\\303\\251"') == ('"a/\\303\\251"', '"b/\\303\\251"')
    assert split_git_header('a/x "b/\\303\\251"') == ("a/x", '"b/\\303\\251"')
    assert split_git_header("a/x b/y") is None  # a rename: names come from "rename from/to"


def test_strip_prefixes() -> None:
    assert strip_prefixes("a/x", "b/x") == ("x", "x")
    assert strip_prefixes("a/x", "a/x") == ("a/x", "a/x")  # --no-prefix diff of a directory named "a"
    assert strip_prefixes(None, "b/x") == (None, "x")
    assert strip_prefixes("old/s/x", "new/s/x") == ("s/x", "s/x")
    assert strip_prefixes("x.txt", "y.txt") == ("x.txt", "y.txt")


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a/b.py", "python"),
        ("web/App.TSX", "typescript"),
        ("Dockerfile", "dockerfile"),
        ("build/Dockerfile.prod", "dockerfile"),
        ("infra/main.tf", "terraform"),
        ("db/001_init.sql", "sql"),
        (".github/workflows/ci.yml", "yaml"),
        ("LICENSE", None),
        (".env", None),
        ("x.unknownext", None),
    ],
)
def test_guess_language(path: str, language: str | None) -> None:
    assert guess_language(path) == language


# --- never crash ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"diff --git a/x b/x\n",
                b"--- a/x\n",
                b"+++ b/x\n",
                b"@@ -1,2 +1,2 @@\n",
                b"@@ -1 +1 @@ s\n",
                b" ctx\n",
                b"-old\n",
                b"+new\n",
                b"\\ No newline at end of file\n",
                b"\n",
                b"\r\n",
                b"Binary files a/x and b/x differ\n",
                b"GIT binary patch\n",
                b"new file mode 100644\n",
                b"deleted file mode 100644\n",
                b"\xff\xfe\x00junk\n",
                b"rename from x\n",
            ]
        ),
        max_size=14,
    )
)
def test_any_input_gives_a_diff_or_a_diff_parse_error(chunks: list[bytes]) -> None:
    try:
        diff = parse_diff(b"".join(chunks), origin="fuzz")
    except DiffParseError as exc:
        assert exc.message.startswith("fuzz: ")
        assert "\n" not in exc.message
        return
    for hunk in diff.hunks:
        new_side = {ln.new_no for ln in hunk.lines if ln.new_no is not None}
        assert new_side == set(hunk.commentable)


def test_patch_saved_with_windows_line_endings_keeps_its_headers() -> None:
    data = (
        b"diff --git a/n.py b/n.py\r\nnew file mode 100644\r\nindex 0000000..1\r\n"
        b"--- /dev/null\r\n+++ b/n.py\r\n@@ -0,0 +1 @@\r\n+x = 1\r\n"
    )
    (hunk,) = parse_diff(data).hunks
    assert (hunk.path, hunk.status, hunk.lines[0].text) == ("n.py", FileStatus.ADDED, "x = 1")


_LINE = st.tuples(
    st.sampled_from(["+", "-", " "]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=12),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_LINE, min_size=1, max_size=8), min_size=1, max_size=4), st.booleans())
def test_lines_agree_with_unidiffs_full_parse(hunks: list[list[tuple[str, str]]], crlf: bool) -> None:
    """Our single-pass line reader sees exactly what unidiff's line-by-line parser sees."""
    eol = "\r\n" if crlf else "\n"
    out = ["diff --git a/f.txt b/f.txt\n", "index 1..2 100644\n", "--- a/f.txt\n", "+++ b/f.txt\n"]
    old = new = 1
    for body in hunks:
        n_old = sum(1 for k, _ in body if k != "+")
        n_new = sum(1 for k, _ in body if k != "-")
        out.append(f"@@ -{old},{n_old} +{new},{n_new} @@\n")
        out.extend(f"{kind}{text}{eol}" for kind, text in body)
        old += n_old + 5
        new += n_new + 5
    text = "".join(out)
    ours = [[(ln.kind, ln.text, ln.old_no, ln.new_no) for ln in h.lines] for h in parse_diff(text.encode()).hunks]
    theirs = [
        [
            (ln.line_type, ln.value.removesuffix("\n").removesuffix("\r"), ln.source_line_no, ln.target_line_no)
            for ln in h
        ]
        for h in PatchSet(io.StringIO(text, newline="\n"))[0]
    ]
    assert ours == theirs
