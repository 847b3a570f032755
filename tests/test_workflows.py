"""The Action and the workflows are hardened, and say what the code does.

Asserted directly: every ``uses:`` pinned to a full commit SHA with a version comment; no
``${{`` inside any ``run:``; every Action input reaches the command through ``env:`` under
a name reviewbot reads; permissions set everywhere; checkouts without persisted credentials;
pinned dependencies. Then zizmor and check-jsonschema run when installed.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from reviewbot.github import outputs as outputs_mod
from reviewbot.github import run as run_mod

REPO = Path(__file__).resolve().parents[1]
ACTION = REPO / "action.yml"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
FILES = [ACTION, *WORKFLOWS]
DOCS = REPO / "docs" / "action.md"
REQUIREMENTS = REPO / "requirements" / "action.txt"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def steps_of(path: Path) -> list[dict[str, Any]]:
    data = load(path)
    if path == ACTION:
        return list(data["runs"]["steps"])
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


def on_of(data: dict[str, Any]) -> Any:
    return data.get("on", data.get(True))  # PyYAML reads a bare `on` key as True


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_uses_is_pinned_by_sha_with_a_version_comment(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    uses = [s["uses"] for s in steps_of(path) if "uses" in s]
    assert uses
    for ref in uses:
        if ref.startswith("./"):
            continue
        assert PINNED.match(ref), f"{path.name}: {ref} is not pinned to a full commit SHA"
        line = next(ln for ln in text.splitlines() if f"uses: {ref}" in ln)
        assert re.search(r"# v\d+\.\d+\.\d+\b", line), f"{path.name}: {ref} has no version comment"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_expression_inside_any_run(path: Path) -> None:
    runs = [s["run"] for s in steps_of(path) if "run" in s]
    assert runs
    for script in runs:
        assert "${{" not in script, f"{path.name}: an expression inside run: {script[:80]!r}"


def test_composite_steps_declare_their_shell() -> None:
    for step in steps_of(ACTION):
        if "run" in step:
            assert step.get("shell") == "bash"


def test_every_action_input_reaches_the_command_through_env_under_a_name_reviewbot_reads() -> None:
    action = load(ACTION)
    review = next(s for s in action["runs"]["steps"] if s.get("id") == "review")
    env = review["env"]
    by_input = {}
    for name, value in env.items():
        m = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", str(value))
        assert m, f"env {name} is not a plain input: {value!r}"
        by_input[m.group(1)] = name
    inputs = set(action["inputs"])
    assert inputs - set(by_input) == {"artifact-name"}  # used only in upload-artifact's `with:`
    read_by_reviewbot = {
        "OPENAI_API_KEY", "OPENAI_API_KEY_CYBER", "OPENAI_API_KEY_GENERAL", "OPENAI_BASE_URL", "GITHUB_TOKEN",
        "MODEL_CYBER", "MODEL_GENERAL", "SECURITY_PATHS",
        *(getattr(run_mod, n) for n in dir(run_mod) if n.startswith("ENV_")),
    }
    assert set(env) <= read_by_reviewbot
    assert review["run"].strip() == '"$RUNNER_TEMP/reviewbot-venv/bin/reviewbot" github'


def test_action_outputs_are_what_the_command_writes() -> None:
    action = load(ACTION)
    declared = set(action["outputs"])
    assert set(outputs_mod.OUTPUT_NAMES) <= declared
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.review.outputs.{name} }}}}"


def test_action_installs_from_its_own_checkout_with_pinned_requirements() -> None:
    steps = steps_of(ACTION)
    setup = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@"))
    assert setup["with"]["update-environment"] is False  # the caller's Python is left alone
    install = next(s for s in steps if "Install" in s.get("name", ""))
    assert '-r "$GITHUB_ACTION_PATH/requirements/action.txt"' in install["run"]
    assert '--no-deps --no-build-isolation "$GITHUB_ACTION_PATH"' in install["run"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert "always()" in upload["if"]


def test_requirements_pin_every_runtime_dependency_at_the_tested_version() -> None:
    pins: dict[str, str] = {}
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.]+)", line)
        assert m, f"not an exact pin: {line!r}"
        pins[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    project = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    block = project.split("dependencies = [", 1)[1].split("]", 1)[0]
    direct = {re.sub(r"[-_.]+", "-", re.split(r"[<>=!~ ]", d.strip(' ",'))[0]).lower()
              for d in block.splitlines() if d.strip(' ",')}
    assert direct and direct <= set(pins)
    mismatched = {}
    for name, version in pins.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a build tool not in this venv
        if name not in ("setuptools", "wheel") and installed != version:
            mismatched[name] = (version, installed)
    assert not mismatched, f"requirements/action.txt differs from the tested venv: {mismatched}"


def test_ci_workflow_is_read_only_and_runs_the_ci_script() -> None:
    ci = load(REPO / ".github" / "workflows" / "ci.yml")
    assert ci["permissions"] == {"contents": "read"}
    assert {"push", "pull_request"} <= set(on_of(ci))
    runs = [s["run"] for s in steps_of(REPO / ".github" / "workflows" / "ci.yml") if "run" in s]
    assert "bash .ci/run" in runs


def test_reusable_workflow_has_minimal_permissions_and_maps_every_action_input() -> None:
    path = REPO / ".github" / "workflows" / "reviewbot.yml"
    wf = load(path)
    call = on_of(wf)["workflow_call"]
    assert wf["permissions"] == {}
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    step = next(s for s in job["steps"] if s.get("uses") == "./.reviewbot-action")
    action_inputs = set(load(ACTION)["inputs"]) - {"github-token", "artifact-name", "openai-base-url"}
    assert set(step["with"]) == action_inputs
    assert {k.replace("_", "-") for k in call["secrets"]} == {"openai-api-key", "openai-api-key-cyber",
                                                              "openai-api-key-general", "state-key"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_has_permissions_and_checkouts_do_not_persist_credentials(path: Path) -> None:
    wf = load(path)
    for job in wf["jobs"].values():
        assert "permissions" in wf or "permissions" in job
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_docs_list_every_input_and_output() -> None:
    if not DOCS.is_file():
        pytest.fail("docs/action.md is missing")
    text = DOCS.read_text(encoding="utf-8")
    action = load(ACTION)
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"`{name}`" in text, f"docs/action.md does not document {name}"
    for ref in {s["uses"] for path in FILES for s in steps_of(path) if "uses" in s and "@" in s["uses"]}:
        assert ref.split("@", 1)[1] in text, f"docs/action.md does not list the pinned {ref}"
    assert re.search(r"github/codeql-action/upload-sarif@[0-9a-f]{40} # v\d", text)


def _tool(name: str) -> Path:
    path = Path(sys.executable).parent / name
    if not path.is_file():
        pytest.skip(f"{name} is not installed in this environment (pip install '.[ci]')")
    return path


def test_zizmor_offline_reports_nothing_medium_or_high() -> None:
    zizmor = _tool("zizmor")
    proc = subprocess.run(
        [str(zizmor), "--offline", "--min-severity", "medium", str(ACTION), str(REPO / ".github" / "workflows")],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("schema", "paths"),
    [("vendor.github-actions", [ACTION]), ("vendor.github-workflows", WORKFLOWS)],
    ids=["action", "workflows"],
)
def test_github_schemas_accept_the_files(schema: str, paths: list[Path]) -> None:
    checker = _tool("check-jsonschema")
    proc = subprocess.run(
        [str(checker), "--builtin-schema", schema, *map(str, paths)],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_test_command_is_the_one_ci_runs() -> None:
    """The README's set-up block and `.ci/run` install the same pinned set and run the same pytest line."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if line.startswith("pip install -c "))
    install, pytest_line = command.split(" && ")
    assert "-c requirements/action.txt -e '.[test]'" in install
    assert "-c requirements/action.txt -e '.[test,ci]'" in ci
    assert pytest_line.startswith("python -m pytest --block-network")
    assert pytest_line in ci.splitlines()


def test_reusable_workflow_defaults_leave_the_policy_in_charge_like_the_action() -> None:
    # An input the caller leaves out must reach the Action exactly as the Action's own default:
    # a default of `false` where the Action's is empty would override the policy (fail_on.incomplete).
    call = on_of(load(REPO / ".github" / "workflows" / "reviewbot.yml"))["workflow_call"]["inputs"]
    action = load(ACTION)["inputs"]
    differ = {
        name: (spec.get("default"), action[name].get("default"))
        for name, spec in call.items()
        if name in action and str(spec.get("default", "")).lower() != str(action[name].get("default", "")).lower()
    }
    assert differ == {}
