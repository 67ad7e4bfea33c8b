"""Done-when for issues 16 and 29: each row of the docs' "Coming from Alembic, Django, Prisma or
dbmate" page (docs/coming-from.md, as the site shows it: its tables are generated from
todoctl/cli/habits.py HABITS, the table the CLI's pointers come from), run on a real database,
exits as the row says; and the README's short table is rows of that same table.

The tables are read with markdown-it-py (the parser Rich itself uses), not a regex: every code span
in the "in todoctl" cell is a command; one that does not start with `todoctl` continues the
previous one's group (`up +2` after `todoctl migrate upgrade`). A row that says "exit N when
behind / not at head" runs on a database one revision behind and must exit N; every other
command runs on a database at head and must exit 0.
"""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from tests.helpers import REPO, copy_migrations, docs_page, revision_source, todoctl_command, todoctl_env
from todoctl.cli.app import app
from todoctl.core import migrate

HEADING = "Coming from Alembic, Django, Prisma or dbmate"
HISTORY = [r.revision for r in migrate.history()]
REV = HISTORY[-2]
runner = CliRunner()

# Where a command must start from to show what it does (written as in the table).
START_AT_BASE = {"migrate up +2", "migrate up REV"}
HEADER = ["you type", "in todoctl"]


def _inline_text(tokens) -> tuple[str, list[str]]:
    text, spans = [], []
    for token in tokens:
        for child in token.children or []:
            text.append(child.content)
            if child.type == "code_inline":
                spans.append(child.content)
    return "".join(text), spans


def table_rows(markdown: str) -> list[tuple[str, str, list[str]]]:
    """(their command, the todoctl cell's text, its code spans) for each row of every
    `| you type | in todoctl |` table of a page."""
    tokens = MarkdownIt().enable("table").parse(markdown)
    rows, cells, header, part = [], [], [], ""
    for token in tokens:
        if token.type in ("thead_open", "tbody_open"):
            part = token.type.removesuffix("_open")
        elif token.type == "table_close":
            part = ""
        elif part and token.type == "tr_open":
            cells = []
        elif part and token.type == "inline":
            cells.append(_inline_text([token]))
        elif part == "thead" and token.type == "tr_close":
            header = [text.strip() for text, _ in cells]
        elif part == "tbody" and token.type == "tr_close" and header == HEADER:
            rows.append((cells[0][0], cells[1][0], cells[1][1]))
    return rows


def readme_rows() -> list[tuple[str, str, list[str]]]:
    """The README's short table, under its "Coming from ..." heading."""
    readme = (REPO / "README.md").read_text()
    start = readme.index(f"## {HEADING}")
    section = readme[start : readme.find("\n## ", start + 1)]
    return table_rows(section)


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


ROWS = table_rows(docs_page("coming-from.md"))
CASES = [
    pytest.param(their, text, words, id=f"{their} -> {' '.join(words)}")
    for their, text, spans in ROWS
    for words in commands_of(spans)
]


def test_the_table_is_found_and_read():
    assert len(ROWS) >= 30
    assert {their.split()[0] for their, _, _ in ROWS} == {"alembic", "manage.py", "prisma", "dbmate"}
    assert ["migrate", "status"] in [c.values[2] for c in CASES]


def test_the_page_is_the_code_table():
    from todoctl.cli.habits import HABITS

    assert [(their, text.split(" (")[0]) for their, text, _ in ROWS] == [(h.typed, h.todoctl) for h in HABITS]


def test_the_readme_table_is_rows_of_the_code_table():
    """The README's short table is a few rows of the same table, written as the code has them."""
    from todoctl.cli.habits import HABITS

    rows = readme_rows()
    assert len(rows) >= 6
    known = {(h.typed, h.todoctl) for h in HABITS}
    for their, _, spans in rows:
        assert (their, spans[0]) in known, f"README row {their!r} -> {spans[0]!r} is not in todoctl/cli/habits.py"


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
    start_at_base = " ".join(words) in START_AT_BASE
    words = _complete(words, tmp_path)
    if where == "behind":
        migrate.downgrade(migrated_db, "-1")
    elif start_at_base:
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
