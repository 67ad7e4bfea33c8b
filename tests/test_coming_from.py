"""Done-when for issue 16: each row of the README's "Coming from Alembic, Django, Prisma or dbmate"
table, run on a real database, exits as the row says.

The table is read with markdown-it-py (the parser Rich itself uses), not a regex: every code span
in the "in todoctl" cell is a command; one that does not start with `todoctl` continues the
previous one's group (`up +2` after `todoctl migrate upgrade`). A row that says "exit N when
behind / not at head" runs on a database one revision behind and must exit N; every other
command runs on a database at head and must exit 0.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from tests.helpers import REPO, copy_migrations, revision_source, todoctl_command, todoctl_env
from todoctl.cli.app import app
from todoctl.core import migrate

HEADING = "Coming from Alembic, Django, Prisma or dbmate"
HISTORY = [r.id for r in migrate.history()]
REV = HISTORY[-2]
runner = CliRunner()

# What a row leaves for the reader to fill in, and where a command must start from.
START_AT_BASE = {"migrate up +2", "migrate up 0005"}


def _inline_text(tokens) -> tuple[str, list[str]]:
    text, spans = [], []
    for token in tokens:
        for child in token.children or []:
            text.append(child.content)
            if child.type == "code_inline":
                spans.append(child.content)
    return "".join(text), spans


def table_rows(readme: str) -> list[tuple[str, str, list[str]]]:
    """(their command, the todoctl cell's text, its code spans) for each row of the table."""
    tokens = MarkdownIt().enable("table").parse(readme)
    start = next(i for i, t in enumerate(tokens) if t.type == "inline" and t.content == HEADING)
    rows, cells, in_body = [], [], False
    for token in tokens[start:]:
        if token.type == "heading_open" and rows:
            break
        if token.type == "tbody_open":
            in_body = True
        elif token.type == "table_close" and in_body:
            break
        elif in_body and token.type == "tr_open":
            cells = []
        elif in_body and token.type == "inline":
            cells.append(_inline_text([token]))
        elif in_body and token.type == "tr_close":
            rows.append((cells[0][0], cells[1][0], cells[1][1]))
    return rows


def commands_of(spans: list[str]) -> list[list[str]]:
    commands, group = [], None
    for span in spans:
        words = shlex.split(span)
        if not words[0][0].isalpha():  # an option or a mark named in the prose (`--yes`, `[X]`)
            continue
        if words[0] == "todoctl":
            words = words[1:]
        elif words[0] not in ("migrate", "db", "schema", "seed", "explain", "health") and group:
            words = [group, *words]
        group = words[0]
        commands.append(words)
    return commands


# TODOCTL_README: another copy to check (a README block before it is merged).
ROWS = table_rows(Path(os.environ.get("TODOCTL_README", REPO / "README.md")).read_text())
CASES = [
    pytest.param(their, text, words, id=f"{their} -> {' '.join(words)}")
    for their, text, spans in ROWS
    for words in commands_of(spans)
]


def test_the_table_is_found_and_read():
    assert len(ROWS) >= 15
    assert any(their.startswith("alembic upgrade") for their, _, _ in ROWS)
    assert ["migrate", "status"] in [c.values[2] for c in CASES]


def _complete(words: list[str], tmp_path) -> list[str]:
    """Fill in what the table leaves out (a revision, a message, a scratch migrations directory)."""
    words = [REV if w == "REV" else w for w in words]
    if words[:2] == ["migrate", "stamp"] and len(words) == 2:
        words.append("head")
    if words[:2] in (["migrate", "new"], ["migrate", "merge"]):
        extra = {}
        if words[1] == "merge":  # a second head to join
            extra = {"0099_branch.py": revision_source("0099", HISTORY[-2], "pass")}
        words = [*words[:2], "-m", "from the coming-from table", "--migrations", str(copy_migrations(tmp_path, extra))]
        if words[1] == "new":
            words.append("--empty")
    if words[:2] == ["migrate", "reset"] and "--yes" not in words:
        words.append("--yes")
    return words


def _expected(text: str) -> tuple[str, int]:
    """Where to run it and its exit code, from the cell's own words."""
    said = re.search(r"exit (\d+) (?:even )?when (behind|not at head)", text)
    if said:
        return "behind", int(said.group(1))
    return "head", 0


@pytest.mark.parametrize(("their", "text", "words"), CASES)
def test_each_row_runs_as_documented(their, text, words, migrated_db, tmp_path):
    where, code = _expected(text)
    words = _complete(words, tmp_path)
    if where == "behind":
        migrate.downgrade(migrated_db, "-1")
    elif " ".join(words) in START_AT_BASE:
        migrate.downgrade(migrated_db, "base")
    argv = ["-d", migrated_db.url, *words]
    if words[:2] == ["db", "shell"]:  # psql: a real process, reading an empty stdin
        result = subprocess.run(
            todoctl_command(*argv), cwd=REPO, env=todoctl_env(), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == code, (their, argv, result.stdout, result.stderr)
        return
    result = runner.invoke(app, argv)
    assert result.exit_code == code, (their, argv, result.output)
