"""`reviewbot route`: the lane, rule and pattern for each path, like `git check-ignore -v`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.cli import main

POLICY = """\
version: 1
exclude: ["vendor/**"]
routes:
  - name: auth
    lane: security
    paths: ["src/auth/**"]
  - {name: docs, lane: skip, paths: ["*.md"]}
  - name: py-process
    lane: security
    paths: ["*.py"]
    content:
      - '\\bos\\.system\\('
      - '\\bsubprocess\\.\\w+\\('
"""

PATCH = """\
diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,2 +1,3 @@
 import subprocess
-# subprocess.run( is mentioned here only
+x = 1
+subprocess.run(cmd)\tfake
@@ -10,1 +11,1 @@
-print("subprocess.run(")
+print("hello")
diff --git a/src/auth/a.py b/src/auth/a.py
--- a/src/auth/a.py
+++ b/src/auth/a.py
@@ -1 +1 @@
-a
+b
diff --git a/vendor/v.py b/vendor/v.py
--- a/vendor/v.py
+++ b/vendor/v.py
@@ -1 +1 @@
-a
+os.system(x)
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("SECURITY_PATHS", "MODEL_CYBER", "MODEL_GENERAL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "policy.yml").write_text(POLICY)
    return tmp_path


def test_text_output_names_source_line_pattern_and_rule(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["route", "--policy", "policy.yml", "src/auth/login.py", "README.md", "app.py", "vendor/x.c"])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        "policy.yml:6:src/auth/**\tsrc/auth/login.py\tsecurity (rule auth)",
        "policy.yml:7:*.md\tREADME.md\tskip (rule docs)",
        "default\tapp.py\tgeneral",
        "policy.yml:2:vendor/**\tvendor/x.c\tskip (rule exclude)",
    ]


def test_security_paths_from_the_environment(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECURITY_PATHS", "app.py")
    assert main(["route", "--policy", "policy.yml", "app.py"]) == 0
    assert capsys.readouterr().out == "SECURITY_PATHS::app.py\tapp.py\tsecurity (rule SECURITY_PATHS)\n"


def test_json_output(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "--policy", "policy.yml", "--format", "json", "./src/auth/a.py", "b.py"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == 1 and data["policy"]["source"] == "policy.yml"
    assert len(data["policy"]["digest"]) == 64
    assert data["paths"] == [
        {
            "path": "src/auth/a.py",
            "lane": "security",
            "rule": "auth",
            "pattern": "src/auth/**",
            "origin": "policy",
            "source": "policy.yml",
            "line": 6,
        },
        {
            "path": "b.py",
            "lane": "general",
            "rule": "default",
            "pattern": None,
            "origin": "default",
            "source": None,
            "line": None,
        },
    ]


def test_discovers_repo_policy_then_default(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "docs/guide.md"]) == 0
    assert capsys.readouterr().out.startswith("<default>:")
    (repo / ".github").mkdir()
    (repo / ".github" / "reviewbot.yml").write_text(POLICY)
    assert main(["route", "docs/guide.md"]) == 0
    assert capsys.readouterr().out == ".github/reviewbot.yml:7:*.md\tdocs/guide.md\tskip (rule docs)\n"


def test_absolute_path_inside_and_outside_the_working_directory(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["route", "--policy", "policy.yml", str(repo / "src" / "auth" / "x.py")]) == 0
    assert "\tsrc/auth/x.py\tsecurity" in capsys.readouterr().out
    assert main(["route", "--policy", "policy.yml", "/elsewhere/x.py"]) == 2
    assert "is outside the working directory" in capsys.readouterr().err


def test_control_characters_in_a_path_cannot_forge_lines(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["route", "--policy", "policy.yml", "a\nsrc/auth/x.py\tsecurity.md"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "a\\nsrc/auth/x.py\\tsecurity.md" in out


def test_bad_policy_is_one_line_error_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "bad.yml").write_text("version: 1\nroutes:\n  - {name: a, lane: nowhere, paths: [x]}\n")
    assert main(["route", "--policy", "bad.yml", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad.yml:3: key 'routes[0].lane': 'nowhere' is not one of")
    assert "Traceback" not in err


def test_bad_environment_is_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECURITY_PATHS", "[z-a]")
    assert main(["route", "--policy", "policy.yml", "x"]) == 2
    assert "SECURITY_PATHS" in capsys.readouterr().err


def test_no_path_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["route"])
    except SystemExit as exc:  # argparse's exit, whether or not main() catches it
        code = exc.code  # type: ignore[assignment]
    assert code == 2
    assert "error:" in capsys.readouterr().err


def test_patch_explains_each_hunk_with_the_content_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "x.diff").write_text(PATCH)
    assert main(["route", "--policy", "policy.yml", "--patch", "x.diff"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "policy.yml:13:\\bsubprocess\\.\\w+\\(\tapp.py @@ -1,2 +1,3 @@\tsecurity (rule py-process)",
        "    +3: subprocess.run(cmd)\\tfake",
        "default\tapp.py @@ -10,1 +11,1 @@\tgeneral",  # only inside a string: not code
        "policy.yml:6:src/auth/**\tsrc/auth/a.py @@ -1,1 +1,1 @@\tsecurity (rule auth)",
        "policy.yml:2:vendor/**\tvendor/v.py @@ -1,1 +1,1 @@\tskip (rule exclude)",  # excludes win
    ]


def test_patch_json_carries_pattern_and_matched_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "x.diff").write_text(PATCH)
    assert main(["route", "--policy", "policy.yml", "--format", "json", "--patch", "x.diff"]) == 0
    data = json.loads(capsys.readouterr().out)
    first = data["hunks"][0]
    assert (first["rule"], first["pattern"], first["line"], first["lane"]) == (
        "py-process",
        r"\bsubprocess\.\w+\(",
        13,
        "security",
    )
    assert first["matched_line"] == {"kind": "+", "line_no": 3, "text": "subprocess.run(cmd)\tfake"}
    assert [h["matched_line"] for h in data["hunks"][1:]] == [None, None, None]
    assert [h["rule"] for h in data["hunks"]] == ["py-process", "default", "auth", "exclude"]


def test_paths_and_patch_together_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "x.diff").write_text(PATCH)
    assert main(["route", "--policy", "policy.yml", "--patch", "x.diff", "app.py"]) == 2
    assert "either paths or --patch" in capsys.readouterr().err


def test_patch_that_is_not_a_diff_is_one_line_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "x.diff").write_text("hello\n")
    code = main(["route", "--policy", "policy.yml", "--patch", "x.diff"])
    err = capsys.readouterr().err
    assert code != 0 and "not a unified diff" in err and "Traceback" not in err


SECRET_PATCH = """\
diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,1 +1,2 @@ def connect(token='ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d'):
 import subprocess
+subprocess.run(["curl", "-H", "Authorization: token ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"])
"""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_patch_output_never_prints_a_secret_from_the_diff(
    repo: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    (repo / "x.diff").write_text(SECRET_PATCH)
    assert main(["route", "--policy", "policy.yml", "--format", fmt, "--patch", "x.diff"]) == 0
    out = capsys.readouterr().out
    assert "ghp_" not in out
    assert "[REDACTED:github-pat:1]" in out
    assert "subprocess.run(" in out  # the line is still shown, masked
    if fmt == "json":
        (hunk,) = json.loads(out)["hunks"]
        assert hunk["matched_line"]["text"].startswith('subprocess.run(["curl"')
