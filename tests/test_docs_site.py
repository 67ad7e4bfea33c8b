"""The docs site builds strictly (issue 29): `mkdocs build --strict` with mkdocs-material, as CI
runs it. Strict mode fails on any warning: a broken link or anchor, a page missing from the nav, a
marker the hook does not know. The hook generates the reference parts from the code, so this also
builds every generated page from today's command tree, schemas and registries.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.helpers import REPO, docs_page


def test_the_site_builds_strictly(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    for page in ("index.html", "commands/migrate/index.html", "json/index.html", "coming-from/index.html"):
        assert (site / page).exists(), page
    # A generated part reached the built page: the reference of a command, from its --help.
    migrate = re.sub(r"<[^>]+>", "", (site / "commands" / "migrate" / "index.html").read_text())
    assert "TODOCTL_LOCK_TIMEOUT" in migrate and "todoctl migrate up --lock-wait 300" in migrate


def test_every_marker_of_every_page_expands():
    """No page keeps a marker: each one names something the hook generates."""
    for path in sorted((REPO / "docs").rglob("*.md")):
        text = docs_page(str(path.relative_to(REPO / "docs")))
        assert not re.search(r"^<!-- todoctl:", text, re.MULTILINE), path


def test_the_reference_says_what_help_says():
    """The generated reference of a command holds its usage, options, variables, defaults and examples."""
    page = docs_page("commands/migrate.md")
    assert "todoctl migrate up [OPTIONS] [TARGET]" in page
    assert "| `--lock-timeout DURATION` | `TODOCTL_LOCK_TIMEOUT` | `5s` |" in page
    assert "todoctl migrate up --dry-run" in page
    health = docs_page("health-checks.md")
    from todoctl.core.health.thresholds import listing

    for row in listing():
        assert f"`{row.env_var}`" in health, row.name


def test_guarantees_fold_in_every_guarantees_file(tmp_path):
    """docs/guarantees.md includes each docs/guarantees-*.md (other branches add them), in name order."""
    from tests.helpers import docs_hook

    (tmp_path / "guarantees-b.md").write_text("## Second\n\nsecond text\n")
    (tmp_path / "guarantees-a.md").write_text("## First\n\nfirst text\n")
    text = docs_hook().expand("# Guarantees\n\n<!-- todoctl:include guarantees-*.md -->\n", tmp_path)
    assert text.index("## First") < text.index("## Second") and "<!--" not in text
    assert "<!-- todoctl:include guarantees-*.md -->" in (REPO / "docs" / "guarantees.md").read_text()
