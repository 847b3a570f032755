"""The shipped default policy: what it routes where, and that the wheel ships the same bytes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewbot.models import Lane
from reviewbot.policy import Budget, default_policy_text, parse_policy
from reviewbot.policy.model import DEFAULT_LANES
from reviewbot.router import Router

ROOT = Path(__file__).resolve().parents[1]
POLICY_FILE = ROOT / "policies" / "default.yml"
DEFAULT = parse_policy(POLICY_FILE.read_text(), source="policies/default.yml")
ROUTER = Router(DEFAULT)


def test_wheel_copy_is_byte_identical() -> None:
    shipped = ROOT / "reviewbot" / "data" / "default.yml"
    assert shipped.read_bytes() == POLICY_FILE.read_bytes(), "run: cp policies/default.yml reviewbot/data/"
    assert default_policy_text() == POLICY_FILE.read_text()


def test_lanes_and_budget_are_the_documented_defaults() -> None:
    assert DEFAULT.lanes == DEFAULT_LANES
    assert DEFAULT.budget == Budget(200_000, 100_000, 4_000, 0.7, 6_000)
    assert DEFAULT.default_lane is Lane.GENERAL


def test_prices_cover_the_default_models_and_are_labelled_placeholders() -> None:
    models = {m for lane in DEFAULT.lanes for m in lane.models}
    assert models == {model for model, _ in DEFAULT.prices}
    text = POLICY_FILE.read_text()
    assert "PLACEHOLDER PRICES" in text
    for model, _ in DEFAULT.prices:
        assert re.search(rf"^  {re.escape(model)}: .*# placeholder$", text, re.M), model


def test_every_route_and_the_exclude_list_is_commented() -> None:
    lines = POLICY_FILE.read_text().splitlines()
    for rule in DEFAULT.routes:
        assert rule.line is not None
        above = lines[rule.line - 2].strip()  # the line before "- name: ..."
        assert above.startswith("#"), f"route {rule.name} has no comment above it"
    exclude_at = lines.index("exclude:")
    assert lines[exclude_at - 1].startswith("#")


@pytest.mark.parametrize(
    ("path", "lane", "rule"),
    [
        ("src/auth/login.py", Lane.SECURITY, "auth"),
        ("app/session/store.go", Lane.SECURITY, "auth"),
        ("web/middleware/permissions.ts", Lane.SECURITY, "auth"),
        ("lib/crypto/aes.c", Lane.SECURITY, "crypto"),
        ("pkg/util/encrypt.go", Lane.SECURITY, "crypto"),
        (".env", Lane.SECURITY, "secrets-and-config"),
        ("config/.env.production", Lane.SECURITY, "secrets-and-config"),
        ("deploy/certs/server.pem", Lane.SECURITY, "secrets-and-config"),
        ("keys/signing.key", Lane.SECURITY, "secrets-and-config"),
        ("ops/aws_credentials.json", Lane.SECURITY, "secrets-and-config"),
        (".github/workflows/release.yml", Lane.SECURITY, "ci-workflows"),
        (".gitlab-ci.yml", Lane.SECURITY, "ci-workflows"),
        (".github/CODEOWNERS", Lane.SECURITY, "ci-workflows"),
        (".github/reviewbot.yml", Lane.SECURITY, "ci-workflows"),
        ("requirements.txt", Lane.SECURITY, "dependencies"),
        ("services/api/requirements-dev.txt", Lane.SECURITY, "dependencies"),
        ("frontend/package-lock.json", Lane.SECURITY, "dependencies"),
        ("go.sum", Lane.SECURITY, "dependencies"),
        ("Cargo.lock", Lane.SECURITY, "dependencies"),
        ("poetry.lock", Lane.SECURITY, "dependencies"),
        ("Dockerfile", Lane.SECURITY, "infrastructure"),
        ("services/web/Dockerfile.prod", Lane.SECURITY, "infrastructure"),
        ("docker-compose.override.yml", Lane.SECURITY, "infrastructure"),
        ("infra/main.tf", Lane.SECURITY, "infrastructure"),
        ("deploy/k8s/deployment.yaml", Lane.SECURITY, "infrastructure"),
        ("deploy/helm/values.yaml", Lane.SECURITY, "infrastructure"),
        ("schema/0001_init.sql", Lane.SECURITY, "sql-and-migrations"),
        ("app/migrations/0042_add_user.py", Lane.SECURITY, "sql-and-migrations"),
        ("db/migrate/20240101_create_users.rb", Lane.SECURITY, "sql-and-migrations"),
        ("api/serializers.py", Lane.SECURITY, "deserialization"),
        ("core/serialization/reader.java", Lane.SECURITY, "deserialization"),
        ("cache/pickle_store.py", Lane.SECURITY, "deserialization"),
        ("docs/guide/install.md", Lane.SKIP, "docs"),
        ("README.md", Lane.SKIP, "docs"),
        ("docs/conf.py", Lane.SKIP, "docs"),
        ("CHANGELOG.rst", Lane.SKIP, "docs"),
        ("docs/auth/overview.md", Lane.SECURITY, "auth"),  # security routes come first on purpose
        ("static/logo.png", Lane.SKIP, "images"),
        ("static/icon.svg", Lane.GENERAL, "default"),  # SVG can carry scripts
        ("api/v1/user_pb2.py", Lane.SKIP, "generated"),
        ("api/v1/user.pb.go", Lane.SKIP, "generated"),
        ("src/Client.generated.ts", Lane.SKIP, "generated"),
        ("vendor/github.com/x/y.go", Lane.SKIP, "exclude"),
        ("vendor/auth/login.go", Lane.SKIP, "exclude"),  # excludes are checked before routes
        ("third_party/zlib/inflate.c", Lane.SKIP, "exclude"),
        ("web/node_modules/left-pad/index.js", Lane.SKIP, "exclude"),
        ("static/js/app.min.js", Lane.SKIP, "exclude"),
        ("tests/__snapshots__/view.test.js.snap", Lane.SKIP, "exclude"),
        ("src/app/models.py", Lane.GENERAL, "default"),
        ("src/utils/strings.py", Lane.GENERAL, "default"),
        ("cmd/server/main.go", Lane.GENERAL, "default"),
        ("AUTHORS", Lane.SKIP, "docs"),
        ("src/author.py", Lane.GENERAL, "default"),
    ],
)
def test_default_policy_routes(path: str, lane: Lane, rule: str) -> None:
    decision = ROUTER.route_path(path)
    assert (decision.lane, decision.rule) == (lane, rule), decision
