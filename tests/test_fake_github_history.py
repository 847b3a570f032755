"""The fake GitHub's history through PyGithub: compare statuses, 404 for an unknown SHA, the PR's commits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from github import Auth, Github, GithubException

from tests.fakes.github_server import FakeGitHub, RunningFake, serve


@pytest.fixture
def gh() -> Iterator[tuple[RunningFake, Github]]:
    running = serve(FakeGitHub())
    client = Github(auth=Auth.Token(running.fake.token), base_url=running.url, retry=None)
    try:
        yield running, client
    finally:
        running.close()


def test_compare_statuses_and_files(gh: tuple[RunningFake, Github]) -> None:
    running, client = gh
    fake = running.fake
    base = fake.commit({"a.py": "x = 1\n"})
    one = fake.commit({"a.py": "x = 1\ny = 2\n"}, [base])
    two = fake.commit({"a.py": "x = 1\ny = 2\nz = 3\n"}, [one])
    other = fake.commit({"a.py": "w = 0\n"}, [base])
    repo = client.get_repo(fake.full_name)

    ahead = repo.compare(one, two)
    assert (ahead.status, ahead.ahead_by, ahead.behind_by) == ("ahead", 1, 0)
    (f,) = ahead.files
    assert f.filename == "a.py" and f.patch == "@@ -1,2 +1,3 @@\n x = 1\n y = 2\n+z = 3"
    assert [c.sha for c in ahead.commits] == [two]
    assert repo.compare(two, one).status == "behind"
    assert repo.compare(two, other).status == "diverged"
    assert repo.compare(one, one).status == "identical"
    with pytest.raises(GithubException) as caught:
        repo.compare("f" * 40, two)
    assert caught.value.status == 404 and "No commit found for SHA" in str(caught.value.data)


def test_pull_files_and_commits_follow_the_history(gh: tuple[RunningFake, Github]) -> None:
    running, client = gh
    fake = running.fake
    base = fake.commit({"a.py": "x = 1\n", "b.py": "b = 1\n"})
    c1 = fake.commit({"a.py": "x = 1\nsecret = 2\n", "b.py": "b = 1\n"}, [base])
    base2 = fake.commit({"a.py": "x = 1\n", "b.py": "b = 2\n"}, [base])
    merge = fake.commit({"a.py": "x = 1\nsecret = 2\n", "b.py": "b = 2\n"}, [c1, base2])
    fake.add_pull(7, base_sha=base2, head_sha=merge)
    pull = client.get_repo(fake.full_name).get_pull(7)
    assert [f.filename for f in pull.get_files()] == ["a.py"]  # merge-base...head: none of the base's change
    assert [c.sha for c in pull.get_commits()] == [c1, merge]
    assert pull.changed_files == 1
