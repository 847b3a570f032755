"""Strict policy loading: defaults, discovery, digests, and every bad input named by file, line, key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reviewbot.errors import EXIT_USAGE, PolicyError
from reviewbot.models import Confidence, Lane, Severity
from reviewbot.policy import Budget, Policy, load_policy, parse_policy, policy_digest
from reviewbot.policy.model import DEFAULT_LANES, FailOn, RedactionConfig, ReviewSettings


def parse(text: str, source: str = "p.yml") -> Policy:
    return parse_policy(textwrap.dedent(text), source=source)


def test_version_and_budget_only_is_valid_and_everything_else_defaults() -> None:
    policy = parse(
        """
        version: 1
        budget:
          tokens_per_pr: 5000
        """
    )
    assert policy.budget == Budget(tokens_per_pr=5000)
    assert policy.lanes == DEFAULT_LANES
    assert policy.routes == ()
    assert policy.default_lane is Lane.GENERAL
    assert policy.fail_on == FailOn()
    assert policy.redaction == RedactionConfig()
    assert policy.review == ReviewSettings()
    assert policy.source == "p.yml"


def test_full_policy_is_read_into_the_model() -> None:
    policy = parse(
        """
        version: 1
        lanes:
          security: {models: [gpt-5.6-cyber], access_program: daybreak_blue, fallback: null}
          general: {models: [gpt-5.5, gpt-5.5-mini], fallback: security}
        routes:
          - name: secrets
            lane: security
            paths: ["src/auth/**", "*.pem"]
          - {name: docs, lane: skip, paths: ["docs/**"]}
        default_lane: security
        exclude: ["vendor/**"]
        budget: {tokens_per_pr: 10, tokens_per_run: 9, max_output_tokens_per_call: 16,
                 reserve_for_security: 1, max_hunk_tokens: 3}
        fail_on: {severity: none, incomplete: true}
        redaction:
          extra_patterns: [{name: acme, regex: "acme_[a-z]{4}"}]
          allow: ["EXAMPLE"]
          pii: false
        review: {max_parallel: 2, min_confidence: medium, max_safeguard_hits: 1, timeout_seconds: 5,
                 max_retries: 0}
        prices:
          gpt-5.5: {input: 1, output: 2.5}
          gpt-5.6-cyber: {input: 3, output: 4, cached_input: 0.5}
        """
    )
    security, general = policy.lanes
    assert (security.name, security.models, security.access_program, security.fallback) == (
        Lane.SECURITY,
        ("gpt-5.6-cyber",),
        "daybreak_blue",
        None,
    )
    assert general.models == ("gpt-5.5", "gpt-5.5-mini") and general.fallback is Lane.SECURITY
    assert [(r.name, r.lane, r.paths, r.line, r.origin) for r in policy.routes] == [
        ("secrets", Lane.SECURITY, ("src/auth/**", "*.pem"), 7, "policy"),
        ("docs", Lane.SKIP, ("docs/**",), 10, "policy"),
    ]
    assert policy.default_lane is Lane.SECURITY
    assert policy.budget == Budget(10, 9, 16, 1.0, 3)
    assert policy.fail_on == FailOn(severity=None, incomplete=True)
    assert policy.redaction == RedactionConfig((("acme", "acme_[a-z]{4}"),), ("EXAMPLE",), False)
    assert policy.review == ReviewSettings(2, Confidence.MEDIUM, 1, 5.0, 0)
    assert policy.price("gpt-5.6-cyber") is not None and policy.price("gpt-5.6-cyber").cached_input == 0.5
    assert policy.price("gpt-5.5") is not None and policy.price("gpt-5.5").cached_input is None


def test_a_lane_key_left_out_keeps_that_lanes_default() -> None:
    policy = parse("version: 1\nlanes: {security: {models: [gpt-5.6-cyber]}}\n")
    security = policy.lane(Lane.SECURITY)
    assert security.models == ("gpt-5.6-cyber",)
    assert security.access_program == "daybreak_red" and security.fallback is Lane.GENERAL
    assert policy.lane(Lane.GENERAL) == DEFAULT_LANES[1]


def test_severity_levels_parse() -> None:
    assert parse("version: 1\nfail_on: {severity: critical}\n").fail_on.severity is Severity.CRITICAL


def test_digest_is_of_the_meaning_not_the_bytes() -> None:
    terse = parse("version: 1\n")
    spelled = parse(
        """
        # a comment changes nothing
        budget: {tokens_per_run: 100000}
        version: 1
        default_lane: general
        """,
        source="other.yml",
    )
    assert len(terse.digest) == 64 and terse.digest == policy_digest(terse)
    assert terse.digest == spelled.digest
    assert parse("version: 1\ndefault_lane: security\n").digest != terse.digest


def test_digest_ignores_route_line_numbers_but_not_route_order() -> None:
    a = parse(
        "version: 1\nroutes:\n- {name: a, lane: security, paths: [x]}\n- {name: b, lane: skip, paths: [y]}\n"
    )
    moved = parse(
        "version: 1\n\n\nroutes:\n- {name: a, lane: security, paths: [x]}\n"
        "- {name: b, lane: skip, paths: [y]}\n"
    )
    swapped = parse(
        "version: 1\nroutes:\n- {name: b, lane: skip, paths: [y]}\n- {name: a, lane: security, paths: [x]}\n"
    )
    assert a.routes[0].line != moved.routes[0].line
    assert a.digest == moved.digest
    assert a.digest != swapped.digest


# --- bad input: (policy text, expected message, expected hint fragment or None) -----------------

BAD = [
    pytest.param(
        "version: 1\nbudget:\n\ttokens_per_pr: 5\n", "p.yml:3: YAML syntax error", "spaces", id="tab"
    ),
    pytest.param("", "p.yml:1: the policy is empty", "review nothing", id="empty"),
    pytest.param("# nothing but a comment\n", "p.yml:1: the policy is empty", None, id="comment-only"),
    pytest.param(
        "budget: {tokens_per_pr: 5}\n",
        "p.yml:1: key 'version': required key is missing",
        "version: 1",
        id="no-version",
    ),
    pytest.param("version: 2\n", "p.yml:1: key 'version': unsupported value 2", None, id="version-2"),
    pytest.param(
        "version: '1'\n", "p.yml:1: key 'version': expected the integer 1", None, id="version-string"
    ),
    pytest.param("- version: 1\n", "p.yml:1: a policy must be a mapping", None, id="top-level-list"),
    pytest.param(
        "version: 1\nbudgte: {}\n",
        "p.yml:2: key 'budgte': unknown key",
        "did you mean 'budget'?",
        id="unknown-top",
    ),
    pytest.param(
        "version: 1\nbudget:\n  token_per_pr: 5\n",
        "p.yml:3: key 'budget.token_per_pr': unknown key",
        "did you mean 'tokens_per_pr'?",
        id="unknown-nested",
    ),
    pytest.param(
        "version: 1\nzzz: 1\n",
        "p.yml:2: key 'zzz': unknown key",
        "known keys: version, lanes",
        id="unknown-far",
    ),
    pytest.param(
        "version: 1\nroutes:\n  - name: a\n    lane: securty\n    paths: [x]\n",
        "p.yml:4: key 'routes[0].lane': 'securty' is not one of security, general, skip",
        "did you mean 'security'?",
        id="unknown-lane",
    ),
    pytest.param(
        "version: 1\nlanes:\n  security: {fallback: skip}\n",
        "p.yml:3: key 'lanes.security.fallback': 'skip' is not one of security, general",
        None,
        id="fallback-skip",
    ),
    pytest.param(
        "version: 1\nlanes:\n  security: {fallback: cyber}\n",
        "p.yml:3: key 'lanes.security.fallback': 'cyber' is not one of security, general",
        None,
        id="fallback-unknown",
    ),
    pytest.param(
        "version: 1\nlanes:\n  general: {fallback: general}\n",
        "p.yml:3: key 'lanes.general.fallback': lane 'general' cannot fall back to itself",
        None,
        id="fallback-self",
    ),
    pytest.param(
        "version: 1\nlanes:\n  skip: {}\n", "p.yml:3: key 'lanes.skip': unknown key", None, id="lane-skip"
    ),
    pytest.param(
        "version: 1\nlanes:\n  security:\n    models: [gpt-5.5-cyber]\n",
        "p.yml:4: key 'lanes.security.models[0]': 'gpt-5.5-cyber' is not a model id",
        "did you mean gpt-5.5-cyber-preview?",
        id="gpt-5.5-cyber",
    ),
    pytest.param(
        "version: 1\nlanes:\n  general: {models: []}\n",
        "p.yml:3: key 'lanes.general.models': needs at least 1 item(s)",
        None,
        id="no-models",
    ),
    pytest.param(
        "version: 1\nlanes:\n  security: {access_program: daybreak_read}\n",
        "p.yml:3: key 'lanes.security.access_program': 'daybreak_read' is not one of",
        "did you mean 'daybreak_red'?",
        id="access-program",
    ),
    pytest.param(
        "version: 1\nbudget: {tokens_per_pr: -5}\n",
        "key 'budget.tokens_per_pr': must be an integer >= 1, got -5",
        None,
        id="negative-budget",
    ),
    pytest.param(
        "version: 1\nbudget: {tokens_per_run: 0}\n",
        "key 'budget.tokens_per_run': must be an integer >= 1, got 0",
        None,
        id="zero-budget",
    ),
    pytest.param(
        "version: 1\nbudget: {max_hunk_tokens: 1.5}\n",
        "key 'budget.max_hunk_tokens': expected an integer, got a number (1.5)",
        None,
        id="float-int",
    ),
    pytest.param(
        "version: 1\nbudget: {tokens_per_pr: lots}\n",
        "key 'budget.tokens_per_pr': expected an integer, got a string ('lots')",
        None,
        id="string-int",
    ),
    pytest.param(
        "version: 1\nbudget: {tokens_per_pr: true}\n",
        "key 'budget.tokens_per_pr': expected an integer, got a boolean",
        None,
        id="bool-int",
    ),
    pytest.param(
        "version: 1\nbudget: {max_output_tokens_per_call: 8}\n",
        "must be an integer >= 16, got 8",
        None,
        id="output-below-16",
    ),
    pytest.param(
        "version: 1\nbudget: {reserve_for_security: 1.5}\n",
        "p.yml:2: key 'budget.reserve_for_security': must be <= 1.0, got 1.5",
        None,
        id="reserve-high",
    ),
    pytest.param(
        "version: 1\nbudget: {reserve_for_security: -0.1}\n",
        "key 'budget.reserve_for_security': must be >= 0.0",
        None,
        id="reserve-low",
    ),
    pytest.param(
        "version: 1\nbudget: {reserve_for_escalation: 2}\n",
        "p.yml:2: key 'budget.reserve_for_escalation': must be <= 1.0, got 2",
        None,
        id="escalation-reserve-high",
    ),
    pytest.param(
        "version: 1\nbudget: {reserve_for_escalation: -1}\n",
        "key 'budget.reserve_for_escalation': must be >= 0.0",
        None,
        id="escalation-reserve-low",
    ),
    pytest.param(
        "version: 1\nbudget: {reserve_for_security: .nan}\n",
        "key 'budget.reserve_for_security': expected a number",
        None,
        id="reserve-nan",
    ),
    pytest.param(
        "version: 1\nroutes:\n  # - {name: a, lane: skip, paths: [x]}\n",
        "p.yml:2: key 'routes': expected a list, got null",
        "write []",
        id="routes-null",
    ),
    pytest.param(
        "version: 1\nbudget:\n",
        "p.yml:2: key 'budget': expected a mapping, got null",
        "leave the key out",
        id="budget-null",
    ),
    pytest.param(
        "version: 1\nbudget: 5\n",
        "key 'budget': expected a mapping, got an integer (5)",
        None,
        id="budget-scalar",
    ),
    pytest.param(
        "version: 1\nfail_on: {severity: hihg}\n",
        "key 'fail_on.severity': 'hihg' is not one of critical, high, medium, low, info, none",
        "did you mean 'high'?",
        id="severity",
    ),
    pytest.param(
        "version: 1\nfail_on: {severity: HIGH}\n", "key 'fail_on.severity'", None, id="severity-case"
    ),
    pytest.param(
        "version: 1\nfail_on: {incomplete: maybe}\n",
        "key 'fail_on.incomplete': expected true or false",
        None,
        id="bool",
    ),
    pytest.param(
        "version: 1\nreview: {min_confidence: sure}\n", "key 'review.min_confidence'", None, id="confidence"
    ),
    pytest.param(
        "version: 1\nreview: {timeout_seconds: 0}\n",
        "key 'review.timeout_seconds': must be > 0.0",
        None,
        id="timeout",
    ),
    pytest.param(
        "version: 1\nexclude: vendor/**\n",
        "key 'exclude': expected a list, got a string",
        None,
        id="exclude-string",
    ),
    pytest.param(
        "version: 1\nexclude: ['[z-a]']\n",
        "p.yml:2: key 'exclude[0]': '[z-a]': not a valid gitignore pattern",
        None,
        id="glob-range",
    ),
    pytest.param(
        "version: 1\nexclude: ['src\\']\n",
        "key 'exclude[0]': 'src\\\\': not a valid gitignore pattern",
        None,
        id="glob-backslash",
    ),
    pytest.param(
        "version: 1\nexclude: ['[abc']\n",
        "key 'exclude[0]': '[abc': matches nothing",
        None,
        id="glob-unclosed",
    ),
    pytest.param("version: 1\nexclude: ['']\n", "key 'exclude[0]': must not be empty", None, id="glob-empty"),
    pytest.param(
        "version: 1\nexclude: [' docs/**']\n", "leading or trailing whitespace", None, id="glob-space"
    ),
    pytest.param(
        "version: 1\nexclude: ['#notes']\n", "gitignore reads as a comment", None, id="glob-comment"
    ),
    pytest.param(
        "version: 1\nexclude: ['!keep']\n",
        "key 'exclude': every pattern is negated",
        None,
        id="exclude-negated",
    ),
    pytest.param(
        "version: 1\nexclude: [123]\n",
        "key 'exclude[0]': expected a string, got an integer (123)",
        "quote it",
        id="glob-int",
    ),
    pytest.param(
        "version: 1\nroutes:\n  - {name: a, lane: security}\n",
        "p.yml:3: key 'routes[0].paths': a route needs `paths` or `content`",
        "list gitignore-style patterns under paths:",
        id="route-no-paths",
    ),
    pytest.param(
        "version: 1\nroutes:\n  - {name: a, lane: security, paths: []}\n",
        "p.yml:3: key 'routes[0].paths': a route needs `paths` or `content`",
        None,
        id="route-empty-paths",
    ),
    pytest.param(
        "version: 1\nroutes:\n  - {name: a, lane: security, paths: ['!x']}\n",
        "key 'routes[0].paths': every pattern is negated",
        None,
        id="route-negated",
    ),
    pytest.param(
        "version: 1\nroutes:\n  - {name: a, lane: security, paths: [x]}\n"
        "  - {name: a, lane: skip, paths: [y]}\n",
        "p.yml:4: key 'routes[1].name': duplicate route name 'a' (first used on line 3)",
        None,
        id="route-duplicate",
    ),
    pytest.param(
        "version: 1\nroutes:\n  - {name: a, lane: general, content: ['eval']}\n",
        "p.yml:3: key 'routes[0].lane': a route with `content` must send hunks to the security lane",
        "content rules add security review",
        id="route-content-lane",
    ),
    pytest.param(
        "version: 1\nroutes:\n  - name: a\n    lane: security\n    content:\n      - 'eval\\('\n"
        "      - 'exec('\n",
        "p.yml:7: key 'routes[0].content[1]': 'exec(': invalid regular expression (missing ), "
        "unterminated subpattern at position 4)",
        None,
        id="route-content-regex",
    ),
    pytest.param(
        "version: 1\nroutes:\n  - name: a\n    lane: security\n    content: ['x|']\n",
        "p.yml:5: key 'routes[0].content[0]': 'x|' matches an empty line, so it would match every hunk",
        None,
        id="route-content-empty-match",
    ),
    pytest.param(
        "version: 1\ndefault_lane: skip\n",
        "p.yml:2: key 'default_lane': 'skip' with no route to a security or general lane",
        "default_lane: general",
        id="reviews-nothing",
    ),
    pytest.param(
        "version: 1\nredaction:\n  extra_patterns:\n    - {name: x, regex: '('}\n",
        "p.yml:4: key 'redaction.extra_patterns[0].regex': '(': invalid regular expression",
        None,
        id="regex",
    ),
    pytest.param(
        "version: 1\nredaction:\n  extra_patterns:\n    - {name: 'Bad Name', regex: 'x'}\n",
        "key 'redaction.extra_patterns[0].name'",
        None,
        id="pattern-name",
    ),
    pytest.param(
        "version: 1\nprices:\n  gpt-5.5: {input: 1}\n",
        "p.yml:3: key 'prices.gpt-5.5.output': required key is missing",
        None,
        id="price-missing",
    ),
    pytest.param(
        "version: 1\nprices:\n  gpt-5.5: {input: -1, output: 1}\n",
        "key 'prices.gpt-5.5.input': must be >= 0.0",
        None,
        id="price-negative",
    ),
    pytest.param(
        "version: 1\nprices:\n  gpt-5.5-cyber: {input: 1, output: 1}\n",
        "key 'prices.gpt-5.5-cyber': 'gpt-5.5-cyber' is not a model id",
        "gpt-5.5-cyber-preview",
        id="price-model",
    ),
    pytest.param(
        "version: 1\nversion: 1\n",
        "p.yml:2: key 'version': duplicate key (first set on line 1)",
        None,
        id="duplicate-key",
    ),
    pytest.param(
        "version: 1\nbase: &b {tokens_per_pr: 5}\nbudget:\n  <<: *b\n",
        "p.yml:2: key 'base': unknown key",
        None,
        id="merge-anchor",
    ),
    pytest.param(
        "version: 1\nbudget:\n  <<: {tokens_per_pr: 5}\n",
        "p.yml:3: key 'budget': YAML merge keys",
        None,
        id="merge-key",
    ),
    pytest.param("version: 1\n1: x\n", "p.yml:2: keys must be strings", None, id="int-key"),
    pytest.param(
        "version: 1\n---\nversion: 1\n",
        "YAML syntax error: but found another document",
        None,
        id="two-documents",
    ),
    pytest.param("version: 1\nexclude: [a, b\n", "p.yml:3: YAML syntax error", None, id="unclosed-flow"),
]


@pytest.mark.parametrize(("text", "message", "hint"), BAD)
def test_bad_policies_are_one_line_errors_naming_file_line_and_key(
    text: str, message: str, hint: str | None
) -> None:
    err = parse_policy_error(text)
    assert message in err.message, err.message
    if hint is not None:
        assert err.hint is not None and hint in err.hint, err.hint


def parse_policy_error(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="p.yml")
    assert info.value.exit_code == EXIT_USAGE
    assert "\n" not in info.value.message and "\t" not in info.value.message
    return info.value


def test_billion_laughs_is_refused_not_expanded() -> None:
    lines = ["version: 1", "a0: &a0 ['x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x']"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    lines.append("exclude: *a11")
    err = parse_policy_error("\n".join(lines) + "\n")
    assert "key 'a0': unknown key" in err.message  # unknown keys stop it before any expansion
    text = "version: 1\nredaction:\n  allow: &big [" + ", ".join(["x"] * 1000) + "]\n"
    text += "routes:\n" + "".join(f"  - {{name: r{i}, lane: security, paths: *big}}\n" for i in range(60))
    assert "document too large" in parse_policy_error(text).message


# --- load_policy: explicit path, discovery, shipped default, environment -----------------------


def test_load_explicit_path_relative_to_cwd(tmp_path: Path) -> None:
    (tmp_path / "mine.yml").write_text("version: 1\ndefault_lane: security\n")
    policy = load_policy(Path("mine.yml"), cwd=tmp_path, env={})
    assert policy.source == "mine.yml" and policy.default_lane is Lane.SECURITY


def test_discovery_prefers_repo_policy(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "reviewbot.yml").write_text("version: 1\nexclude: [x/**]\n")
    policy = load_policy(cwd=tmp_path, env={})
    assert policy.source == ".github/reviewbot.yml" and policy.exclude == ("x/**",)


def test_discovery_falls_back_to_shipped_default(tmp_path: Path) -> None:
    policy = load_policy(cwd=tmp_path, env={})
    assert policy.source == "<default>"
    assert {r.name for r in policy.routes} >= {"auth", "crypto", "ci-workflows", "docs"}


def test_misnamed_repo_policy_is_an_error_not_a_silent_default(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "reviewbot.yaml").write_text("version: 1\n")
    with pytest.raises(PolicyError, match=r"reviewbot\.yaml: found, but the policy file is"):
        load_policy(cwd=tmp_path, env={})


def test_invalid_repo_policy_names_its_path(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "reviewbot.yml").write_text(
        "version: 1\nroutes:\n  - {name: a, lane: nope, paths: [x]}\n"
    )
    with pytest.raises(PolicyError, match=r"^\.github/reviewbot\.yml:3: key 'routes\[0\]\.lane'"):
        load_policy(cwd=tmp_path, env={})


def test_missing_file_directory_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"nope\.yml: cannot read the policy"):
        load_policy(tmp_path / "nope.yml", cwd=tmp_path, env={})
    with pytest.raises(PolicyError, match="cannot read the policy"):
        load_policy(tmp_path, cwd=tmp_path, env={})
    bad = tmp_path / "latin1.yml"
    bad.write_bytes(b"version: 1\n# caf\xe9\n")
    with pytest.raises(PolicyError, match=r"latin1.yml:2: the policy is not UTF-8 text"):
        load_policy(bad, cwd=tmp_path, env={})


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yml"
    path.write_bytes(b"\xef\xbb\xbfversion: 1\n")
    assert load_policy(path, cwd=tmp_path, env={}).version == 1


def test_load_applies_environment(tmp_path: Path) -> None:
    policy = load_policy(cwd=tmp_path, env={"SECURITY_PATHS": "core/**", "MODEL_GENERAL": "gpt-x"})
    assert policy.routes[0].name == "SECURITY_PATHS" and policy.routes[0].paths == ("core/**",)
    assert policy.lane(Lane.GENERAL).models == ("gpt-x",)
    assert policy.digest != load_policy(cwd=tmp_path, env={}).digest
