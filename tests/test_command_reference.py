"""Done-when for issues 16 and 29: the docs' command reference runs as written.

Every `| command | what it does |` table of the command pages (docs/commands/*.md, read as the
site shows them: the generated tables expanded by the site's hook) is read with markdown-it-py (as
tests/test_coming_from.py reads the "Coming from" page); every code span of a row's command cell
is a command. Each one is turned into a real invocation and run against a real database at head
(seeded where the command needs rows): it must exit as the docs give it for that state (0, or the
code listed in EXIT_AT_HEAD with the docs' reason) with no traceback.

Both ways round: a row whose command todoctl does not recognise fails (the docs cannot document a
command that does not exist; the hand-written overview tables are checked as well as the
generated ones), and every command of todoctl's command tree must appear in some table (no command
goes undocumented).

The notation, as read here: `[X]` is optional and is included (its first alternative
when it says `[A | B]`); `--flag/--no-flag` is one of the two, the first; `up/down/stamp` in a
command word is one row for each; `…` and `TABLE...` stand for arguments; words in capitals are
placeholders, filled from PLACEHOLDERS.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import psycopg
import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from tests.helpers import REPO, docs_page, libpq, todoctl_command, todoctl_env
from tests.test_coming_from import HISTORY, REV, _complete, _inline_text
from todoctl.cli.app import app

PAGES = sorted((REPO / "docs" / "commands").glob("*.md"))
HEADER = ["command", "what it does"]
runner = CliRunner()

# What a placeholder stands for: by (group, command, placeholder), (group, placeholder), or placeholder.
PLACEHOLDERS: dict[tuple[str, ...] | str, str] = {
    ("migrate", "up", "TARGET"): "head",
    ("migrate", "upgrade", "TARGET"): "head",
    ("migrate", "down", "TARGET"): "-1",
    ("migrate", "downgrade", "TARGET"): "-1",
    ("migrate", "REVISION"): "head",
    ("migrate", "REV"): REV,
    ("migrate", "lint", "FROM:TO"): f"{HISTORY[0]}:{HISTORY[-1]}",
    ("migrate", "sql", "FROM:TO"): f"{HISTORY[-1]}:{HISTORY[-2]}",
    ("explain", "NAME"): "task-list",
    ("explain", "STATEMENT"): "SELECT count(*) FROM tasks WHERE status = 'pending'",
    ("seed", "NAME"): "small",
    ("seed", "N"): "20",
    ("health", "NAME"): "migrations",
    ("health", "N"): "5",
    ("health", "SECONDS"): "1",
    ("schema", "RULE"): "missing-timestamps",
    ("review", "RULE"): "fk-missing",
    ("init", "DIR"): "{tmp}",  # the test's own empty directory: init writes a new app there
    "TABLE": "tasks",
    "TEXT": "set by the command reference test",
    "MSG": "from the command reference",  # migrate new/merge: _complete writes its own message
    "FILE": "{tmp}/plans.json",
    "PID": "{pid}",  # a live session of the test's database
}

# A required argument a row leaves out (`migrate up/down/reset/stamp --dry-run`).
REQUIRED = {("migrate", "stamp"): "head"}

# Rows that cannot run without a terminal or a person, and why.
SKIP = {
    ("health", "--watch"): "runs until Ctrl-C (tests/cli/health covers --watch with a real signal)",
}

# Exit codes other than 0 at head, each as the docs give it for that state.
EXIT_AT_HEAD: dict[tuple[str, ...], int] = {}

# Commands that ask first: without a terminal, and without --yes, they refuse (exit 4;
# docs/commands/db.md). The generated summary names no option; the overview rows give --yes.
ASK_FIRST = {("db", "cancel")}  # db unprotect asks only on a protected database (these are not)


def expected_exit(path: tuple[str, ...], argv: list[str]) -> int:
    if path in ASK_FIRST and "--yes" not in argv:
        return 4
    return EXIT_AT_HEAD.get(path, 0)

# Commands that need rows to work on: explain picks its parameters from the data.
NEEDS_DATA = {"explain"}


def command_tables(markdown: str, page: str) -> list[tuple[str, str, list[str]]]:
    """(the page, the command cell's text, its code spans) for each row of every
    `| command | what it does |` table of a page."""
    tokens = MarkdownIt().enable("table").parse(markdown)
    rows: list[tuple[str, str, list[str]]] = []
    header: list[str] = []
    cells: list[tuple[str, list[str]]] = []
    part = ""
    for token in tokens:
        if token.type in ("thead_open", "tbody_open"):
            part = token.type.removesuffix("_open")
            if part == "thead":
                header = []
        elif token.type == "tr_open":
            cells = []
        elif token.type == "inline" and part:
            cells.append(_inline_text([token]))
        elif token.type == "tr_close" and part == "thead":
            header = [text.strip() for text, _ in cells]
        elif token.type == "tr_close" and part == "tbody" and header == HEADER:
            rows.append((page, cells[0][0], cells[0][1]))
        elif token.type == "table_close":
            part = ""
    return rows


def _first_alternative(match: re.Match) -> str:
    return match.group(1).split(" | ")[0]


def invocations(span: str) -> list[list[str]]:
    """The commands a code span of a command cell stands for, placeholders not yet filled."""
    text = span.replace("…", " ")
    text = re.sub(r"\[([^\[\]]*)\]", _first_alternative, text)  # optional parts, included
    words = shlex.split(text)
    if words and words[0] == "todoctl":
        words = words[1:]
    words = [w.split("/")[0] if w.startswith("--") else w.removesuffix("...") for w in words]
    several = [i for i, w in enumerate(words) if "/" in w and not w.startswith("-")]
    if not several:
        return [words]
    i = several[0]
    return [[*words[:i], choice, *words[i + 1 :]] for choice in words[i].split("/")]


def resolve(words: list[str]) -> tuple[str, ...]:
    """The command path todoctl's own command tree resolves ``words`` to, or a test failure."""
    from typer.main import get_command

    command, path, rest = get_command(app), [], list(words)
    while hasattr(command, "commands"):
        if command.invoke_without_command and (not rest or rest[0].startswith("-")):
            break  # a group that runs by itself (`todoctl health`)
        assert rest and not rest[0].startswith("-"), f"{' '.join(words)!r} names a group, not a command"
        context = command.context_class(command, info_name=" ".join(["todoctl", *path]), resilient_parsing=True)
        name, command, rest = command.resolve_command(context, rest)
        assert command is not None, f"todoctl has no command {' '.join(words)!r} (docs command reference)"
        path.append(name)
    return tuple(path)


def command_tree() -> set[tuple[str, ...]]:
    """Every command (not group) todoctl has, as its words: ("migrate", "up"), ("health",)."""
    from typer.main import get_command

    found: set[tuple[str, ...]] = set()

    def walk(command, path: tuple[str, ...]) -> None:
        if not hasattr(command, "commands") or command.invoke_without_command:
            found.add(path)
        if not hasattr(command, "commands"):
            return
        for name, sub in command.commands.items():
            if not sub.hidden:
                walk(sub, (*path, name))

    walk(get_command(app), ())
    return found


def _placeholder(words: list[str], i: int, path: tuple[str, ...]) -> str | None:
    word = words[i]
    if not re.fullmatch(r"[A-Z][A-Z_]*(:[A-Z]+)?", word):
        return None
    for key in ((*path, word), (path[0], word), word):
        if key in PLACEHOLDERS:
            return PLACEHOLDERS[key]
    raise AssertionError(f"no value for placeholder {word} in {' '.join(words)!r}: add it to PLACEHOLDERS")


def fill(words: list[str], tmp_path: Path, pid: int | None) -> list[str]:
    path = resolve(words)
    filled = []
    for i, word in enumerate(words):
        value = _placeholder(words, i, path)
        filled.append(word if value is None else value.format(tmp=tmp_path, pid=pid))
    if path in REQUIRED and all(w.startswith("-") for w in filled[len(path) :]):
        filled.insert(len(path), REQUIRED[path])
    return _complete(filled, tmp_path)  # migrate new/merge/reset/stamp, as the "Coming from" test does


ROWS = [row for page in PAGES for row in command_tables(docs_page(f"commands/{page.name}"), page.stem)]
# Each invocation once: an overview row and the generated summary often name the same one.
_SEEN: set[tuple[str, ...]] = set()
CASES = [
    pytest.param(heading, words, id=" ".join(words))
    for heading, _, spans in ROWS
    for span in spans
    for words in invocations(span)
    if tuple(words) not in _SEEN and not _SEEN.add(tuple(words))
]


def _skip_reason(words: list[str]) -> str | None:
    for (group, option), reason in SKIP.items():
        if words[0] == group and option in words:
            return reason
    return None


def test_the_tables_are_found_and_read():
    pages = {page for page, _, _ in ROWS}
    assert {"migrate", "schema", "db", "explain", "seed", "health", "review", "init", "index"} <= pages
    assert len(ROWS) >= 60 and len(CASES) >= 60
    assert ["migrate", "up", "TARGET"] in [c.values[1] for c in CASES]


def test_every_row_names_a_command_todoctl_has():
    unknown = []
    for case in CASES:
        try:
            resolve(case.values[1])
        except AssertionError as exc:
            unknown.append(str(exc))
    assert not unknown, unknown


def test_every_command_appears_in_a_table():
    documented = {resolve(case.values[1]) for case in CASES}
    missing = sorted(" ".join(path) for path in command_tree() - documented)
    assert not missing, f"commands missing from the docs' command tables: {missing}"


@pytest.mark.parametrize(("heading", "words"), CASES)
def test_each_row_runs_as_documented(heading, words, migrated_db, seeded_db, tmp_path):
    reason = _skip_reason(words)
    if reason:
        pytest.skip(reason)
    path = resolve(words)
    url = seeded_db("small") if path[0] in NEEDS_DATA else migrated_db
    with psycopg.connect(libpq(url), autocommit=True) as other:  # a session for `db cancel PID`
        argv = fill(words, tmp_path, other.info.backend_pid)
        if path == ("explain", "check") and "--baseline" in argv:  # a baseline to check against
            baseline = argv[argv.index("--baseline") + 1]
            saved = runner.invoke(app, ["-d", url.url, "explain", "baseline", "save", baseline])
            assert saved.exit_code == 0, saved.output
        code = expected_exit(path, argv)
        if path == ("db", "shell"):  # psql: a real process, reading an empty stdin
            result = subprocess.run(
                todoctl_command("-d", url.url, *argv), cwd=REPO, env=todoctl_env(), stdin=subprocess.DEVNULL,
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert result.returncode == code, (heading, argv, result.stdout, result.stderr)
            assert "Traceback" not in result.stdout + result.stderr
            return
        result = runner.invoke(app, ["-d", url.url, *argv])
    assert result.exit_code == code, (heading, argv, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
