"""The README is the front door (issue 29): at most 300 lines, its two set-up commands the ones
that work (the second is what .ci/run runs), its exit codes todoctl's own, and every link into
docs/ pointing at a page that exists. Its "Coming from" rows are checked against the code's table
by tests/test_coming_from.py.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from tests.helpers import REPO

README = (REPO / "README.md").read_text()

QUICK_START = (
    "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/todoctl migrate up && "
    ".venv/bin/todoctl seed --truncate && .venv/bin/todoctl explain task-list"
)
TESTS = 'python3 -m venv .venv && .venv/bin/pip install -q ".[test]" && .venv/bin/python -m pytest -q -p no:cacheprovider'


def test_it_is_a_front_door():
    assert len(README.splitlines()) <= 300
    assert max(len(line) for line in README.splitlines() if not line.startswith(("python3 ", "DATABASE_URL"))) <= 200


def test_the_two_set_up_commands_are_there_verbatim():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.DOTALL)
    assert QUICK_START in blocks and TESTS in blocks
    assert (REPO / ".ci" / "run").read_text().rstrip().endswith(TESTS)  # .ci/run runs the second


def test_the_skipped_tiers_are_named_near_the_test_command():
    after = README[README.index(TESTS) :][:2000]
    for word in ("topology", "PgBouncer", "PostgreSQL 15", "matrix", "14, 15, 16, 17 and 18", ".ci/pg-binaries", "skipped"):
        assert word in after, word


def test_the_exit_codes_are_todoctls():
    from todoctl.errors import MEANINGS

    section = README[README.index("## Exit codes") :]
    tokens = MarkdownIt().enable("table").parse(section)
    cells = [t.content for t in tokens if t.type == "inline"]
    start = cells.index("code")
    rows = [(cells[i], cells[i + 1]) for i in range(start + 2, start + 2 + 2 * len(MEANINGS), 2)]
    assert rows == [(str(int(code)), meaning) for code, meaning in MEANINGS.items()]


def test_every_link_into_docs_exists():
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", README)
    assert len(links) >= 15
    missing = sorted({link for link in links if not (REPO / link).exists()})
    assert not missing, missing


def test_use_todoctl_on_your_app_comes_early():
    headings = re.findall(r"^## (.+)$", README, re.MULTILINE)
    assert headings.index("Use todoctl on your app") <= 1
