"""80 columns for all output (issue 29): every command, its --help and a few representative errors,
drawn at 80 columns in a pipe (COLUMNS=80, stdout not a terminal) and on a pseudo-terminal (the
`pty` module, TERM set, COLUMNS=80, colours on), on the quick start's database (migrated, seeded
with the demo profile, a plan explained) of the Todo app and of shelf (tests/apps/shelf).

Two things are checked on every line, stdout and stderr alike, ANSI sequences stripped:
- no line is wider than 80 columns (display width: rich.cells.cell_len);
- no identifier of the schema (every table, column, index, constraint and sequence name in the
  catalog, every revision file name) is broken across two lines: not in prose, where a line
  continues on the next one, and not in a table cell, where it continues in the same column.

Set TODOCTL_80_SAMPLES=DIR to also write everything drawn to DIR/<app>-<pipe|terminal>.txt.

One exception to the width: a line holding only one SQL string literal wider than the screen (a
review fix's hash-format regex), which is never cut, so that SQL copied from the terminal runs.

Left out, on purpose: documents for another program, which are written verbatim (SQL scripts:
`migrate sql`, `schema dump`; Mermaid and SVG: `schema erd`; a URL: `db url`; PostgreSQL's
text plan: `--format text`; every --json document), and `db shell`, which is psql's own screen.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import sys
import termios
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import typer.main
from rich.cells import cell_len
from typer.testing import CliRunner

from tests.conftest import SHELF
from tests.helpers import REPO
from todoctl.cli.app import app

pytestmark = pytest.mark.slow

WIDTH = 80
runner = CliRunner()
ROOT = typer.main.get_command(app)
# CSI (colours, cursor moves), OSC (hyperlinks, titles) and the single-character escapes Rich uses.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
BOX = "│┃"
IDENTIFIER_CHAR = re.compile(r"[A-Za-z0-9_]")


# ---------------------------------------------------------------- the two ways of drawing


def in_a_pipe(args: list[str]) -> tuple[int, str]:
    """The command in-process, its output not a terminal (CliRunner), 80 columns, no colour."""
    result = runner.invoke(app, args, env={"COLUMNS": str(WIDTH), "NO_COLOR": "1", "TODOCTL_ALLOW_PRODUCTION": ""})
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"{args}: {result.exception!r}\n{result.output}"
    return result.exit_code, result.output


def on_a_terminal(args: list[str], monkeypatch) -> tuple[int, str]:
    """The command in-process with stdout and stderr on a pseudo-terminal of 80 x 24 (TERM set,
    COLUMNS=80, colours on): what a person sees, progress bars and all. stdin is not a terminal,
    so nothing waits for an answer."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, WIDTH, 0, 0))
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the slave side is closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    terminal = open(slave, "w", encoding="utf-8", buffering=1, closefd=False)
    saved = sys.stdout, sys.stderr
    with monkeypatch.context() as patch:
        patch.setenv("COLUMNS", str(WIDTH))
        patch.setenv("LINES", "24")
        patch.setenv("TERM", "xterm-256color")
        patch.delenv("NO_COLOR", raising=False)
        patch.setenv("TODOCTL_ALLOW_PRODUCTION", "")
        sys.stdout = sys.stderr = terminal
        try:
            code = ROOT.main(args=args, prog_name="todoctl", standalone_mode=False)
        finally:
            try:
                sys.stdout.flush()
            except OSError:
                pass
            sys.stdout, sys.stderr = saved
            terminal.close()
            os.close(slave)
    reader.join(timeout=30)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


# ---------------------------------------------------------------- what is checked


def lines_of(output: str) -> list[str]:
    """The lines a reader sees: ANSI sequences gone; a carriage return (a redrawn progress line,
    the terminal's CRLF) starts a line too."""
    return [line for line in re.split(r"\r\n|\r|\n", ANSI.sub("", output))]


# A line that is one SQL string literal (and the ")" or ";" glued to it), wider than the screen: a
# review fix's hash-format regex, kept whole so that the statement copied from the terminal runs.
ONE_SQL_LITERAL = re.compile(r"\s*'(?:[^']|'')*'[);,]*")


def too_wide(output: str) -> list[str]:
    return [
        f"{cell_len(line)}: {line!r}"
        for line in lines_of(output)
        if cell_len(line) > WIDTH and not ONE_SQL_LITERAL.fullmatch(line)
    ]


RULES = set("━─┏┓┗┛┡┩└┘┌┐├┤┳┻╇╈┼┬┴╭╮╰╯")


def streams(output: str) -> list[list[str]]:
    """Runs of text in the order a reader follows them: each column of a table, top to bottom,
    and each stretch of other lines."""
    runs: list[list[str]] = []
    prose: list[str] = []
    table: list[list[str]] = []  # the rows of the table being read, as cells
    layout: tuple = ()

    def end_prose() -> None:
        if prose:
            runs.append(prose.copy())
            prose.clear()

    def end_table() -> None:
        if table:
            runs.extend([row[i] for row in table] for i in range(len(table[0])))
            table.clear()

    for line in lines_of(output):
        bars = tuple(i for i, ch in enumerate(line) if ch in BOX)
        if line[:1] in BOX and len(bars) >= 2:
            end_prose()
            if bars != layout:
                end_table()
                layout = bars
            table.append([line[a + 1 : b] for a, b in zip(bars, bars[1:])])
            continue
        end_table()
        layout = ()
        if not line.strip() or set(line.strip()) <= RULES:
            end_prose()
            continue
        prose.append(line)
    end_table()
    end_prose()
    return runs


def broken(output: str, identifiers: set[str]) -> list[str]:
    """Identifiers that start at the end of one line and end at the start of the next."""
    found = []
    for run in streams(output):
        for upper, lower in zip(run, run[1:]):
            words_up, words_down = upper.split(), lower.split()
            if not words_up or not words_down:
                continue
            tail, head = words_up[-1], words_down[0]
            joined = tail + head
            for name in identifiers:
                start = joined.find(name)
                while start != -1:
                    end = start + len(name)
                    crosses = start < len(tail) < end
                    bounded = (start == 0 or not IDENTIFIER_CHAR.match(joined[start - 1])) and (
                        end == len(joined) or not IDENTIFIER_CHAR.match(joined[end])
                    )
                    if crosses and bounded:
                        found.append(f"{name!r} in {upper.rstrip()!r} / {lower.rstrip()!r}")
                    start = joined.find(name, start + 1)
    return found


# ---------------------------------------------------------------- the apps and their commands


@dataclass
class App:
    name: str
    directory: Path
    url: object
    identifiers: set[str] = field(default_factory=set)
    queries: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    def args(self, *words: str) -> list[str]:
        return ["--project", str(self.directory), "-d", self.url.url, *words]


CATALOG = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
UNION SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
UNION SELECT con.conname FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace WHERE n.nspname = 'public'
"""


def _prepare(pg, name: str, directory: Path, url, monkeypatch) -> App:
    """The quick start on the app's database: migrate up (the fixture did), seed (when the app can
    be seeded), explain its first query; then what the checks need from its catalog."""
    the_app = App(name, directory, url)
    in_a_pipe(the_app.args("seed", "--truncate", "--yes"))
    listed = runner.invoke(app, the_app.args("explain", "list", "--json"))
    if listed.exit_code == 0:
        the_app.queries = [q["name"] for q in json.loads(listed.stdout)["queries"]]
    if the_app.queries:
        in_a_pipe(the_app.args("explain", the_app.queries[0]))
    names = {row[0] for row in pg.execute(CATALOG, database=url.database)}
    versions = directory / ("migrations" if name == "todo" else "shelf/migrations") / "versions"
    files = {path.name for path in versions.glob("*.py")}
    assert files, versions
    # One-letter names (a column "x") cannot be told from a fragment of text.
    the_app.identifiers = {n for n in names | files if len(n) > 2}
    the_app.tables = sorted(row[0] for row in pg.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database=url.database))
    return the_app


@pytest.fixture(params=["todo", "shelf"])
def each_app(request, pg, monkeypatch):
    if request.param == "todo":
        url = request.getfixturevalue("seeded_db")("demo")
        return _prepare(pg, "todo", REPO, url, monkeypatch)
    url = request.getfixturevalue("shelf_db")
    return _prepare(pg, "shelf", SHELF, url, monkeypatch)


def _walk(command, path=()):
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


HELPS = [[*path, "--help"] for path, _ in _walk(ROOT)]


def commands(the_app: App, tmp_path: Path, idle_pid: int) -> list[list[str]]:
    """Every command (reading ones as they are, changing ones as --dry-run or refused), then errors."""
    first = the_app.tables[0] if the_app.tables else "nothing"
    listed = [
        ["version"],
        ["init", str(tmp_path / "new-app"), "--dry-run"],
        ["review"],
        ["review", "--offline"],
        ["migrate", "status"],
        ["migrate", "history"],
        ["migrate", "current"],
        ["migrate", "heads"],
        ["migrate", "check"],
        ["migrate", "lint"],
        ["migrate", "up"],
        ["migrate", "up", "--dry-run"],
        ["migrate", "upgrade", "head", "--dry-run"],
        ["migrate", "down", "--dry-run"],
        ["migrate", "downgrade", "base", "--dry-run"],
        ["migrate", "reset", "--dry-run"],
        ["migrate", "stamp", "head", "--dry-run"],
        ["migrate", "new", "-m", "nothing changed", "--dry-run"],
        ["migrate", "merge", "-m", "join", "--dry-run"],
        ["migrate", "verify"],
        ["schema", "show"],
        *(["schema", "show", table] for table in the_app.tables),
        ["schema", "diff"],
        ["schema", "diff", "--against", "history"],
        ["schema", "lint"],
        ["db", "status"],
        ["db", "protection"],
        ["db", "start", "--dry-run"],
        ["db", "stop", "--dry-run"],
        ["db", "protect", "--dry-run"],
        ["db", "unprotect", "--dry-run", "--yes"],
        ["db", "cancel", str(idle_pid), "--dry-run", "--yes"],
        ["db", "wait", "--timeout", "5"],
        ["health"],
        ["health", "--probe", "3"],
        ["health", "thresholds"],
        ["explain", "list"],
        *(["explain", "show", name] for name in the_app.queries),
        *(["explain", "run", name] for name in the_app.queries),
        *(["explain", name, "--format", "table"] for name in the_app.queries[:2]),
        ["explain", "sql", f'SELECT count(*) FROM "{first}"'],
        ["explain", "check"],
        ["explain", "baseline", "save", str(tmp_path / "plans.json")],
        ["seed", "--dry-run"],
        ["seed", "--truncate", "--yes"],  # last: it rewrites the data (progress bars on a terminal)
        # errors
        ["seed"],  # the tables hold rows: refused, exit 4
        ["showmigrations"],
        ["migrate", "up", "no-such-revision"],
        ["migrate", "up", "-q"],
        ["explain", "no-such-query"],
        ["schema", "show", "no_such_table"],
        ["health", "--check", "no-such-check"],
    ]
    return [the_app.args(*words) for words in listed] + [
        ["-d", "postgresql://todoctl@127.0.0.1:9/nowhere", "migrate", "status"],  # cannot connect, exit 3
        *HELPS,
    ]


def _check(label: str, output: str, identifiers: set[str], failures: list[str]) -> None:
    for line in too_wide(output):
        failures.append(f"{label}: wider than {WIDTH}: {line}")
    for split in broken(output, identifiers):
        failures.append(f"{label}: identifier broken: {split}")


@pytest.mark.parametrize("where", ["pipe", "terminal"])
def test_every_command_fits_80_columns_and_breaks_no_identifier(each_app, where, tmp_path, monkeypatch):
    failures: list[str] = []
    ran = 0
    samples = Path(os.environ["TODOCTL_80_SAMPLES"]) if os.environ.get("TODOCTL_80_SAMPLES") else None
    with psycopg.connect(each_app.url.libpq, autocommit=True) as idle:
        for args in commands(each_app, tmp_path, idle.info.backend_pid):
            if where == "pipe":
                code, output = in_a_pipe(args)
            else:
                code, output = on_a_terminal(args, monkeypatch)
            assert output.strip(), f"{args}: no output"
            label = f"[{each_app.name}, {where}] todoctl {' '.join(a for a in args if a != each_app.url.url)}"
            _check(label, output, each_app.identifiers, failures)
            if samples:
                with open(samples / f"{each_app.name}-{where}.txt", "a", encoding="utf-8") as out:
                    out.write(f"\n===== {label} (exit {code})\n{output}")
            ran += 1
    assert ran > 80
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- the checks check what they say


def test_the_checks_see_a_long_line_and_an_identifier_split_in_prose_and_in_a_cell():
    names = {"ix_tasks_user_status_due", "0008_task_search_expression_index.py", "pg_stat_statements"}
    prose = "Hint: the index ix_tasks_user_stat\n      us_due is unused"
    assert broken(prose, names)
    cell = (
        "│ ix_tasks_user_stat │ btree │\n"
        "│ us_due             │       │\n"
    )
    assert broken(cell, names)
    two_columns = "│ 0008_task_search_expressio │ pg_stat_state │\n│ n_index.py                 │ ments         │\n"
    assert len(broken(two_columns, names)) == 2
    whole = "│ ix_tasks_user_status_due │ btree (user_id, │\n│                          │ status)         │\n"
    assert not broken(whole, names)
    assert not broken("the index\nix_tasks_user_status_due is whole", names)
    assert too_wide("x" * 81) and not too_wide("\x1b[1m" + "x" * 80 + "\x1b[0m")


def test_a_table_title_is_never_wrapped_to_the_tables_own_width():
    """`Migrated /long/path up` over a two-column table printed on three lines (newcomer F20)."""
    import io

    from rich.console import Console

    from todoctl.render.tables import Table

    title = "Migrated /tmp/some/long/home/pgdata/clinic up"
    table = Table(title=title, title_justify="left")
    table.add_column("rev")
    table.add_row("0002")
    out = io.StringIO()
    Console(file=out, width=80).print(table)
    assert title in out.getvalue().splitlines()[0]
    narrow = io.StringIO()
    Console(file=narrow, width=30).print(table)  # wider than the terminal: wrapped, within it
    assert max(len(line) for line in narrow.getvalue().splitlines()) <= 30
