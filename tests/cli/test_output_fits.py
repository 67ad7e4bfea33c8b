"""Output that fits: each command drawn at 80 columns in a pipe (no TTY) cuts nothing, a long
value is folded onto the next line of its column, and --wide draws everything unfolded."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from todoctl.cli.app import app

runner = CliRunner()
BOX = "│┃"


def render(url, *args: str, width: int = 80):
    """The command's human output in a pipe (CliRunner is not a terminal) of ``width`` columns."""
    result = runner.invoke(app, ["-d", url.url, *args], env={"COLUMNS": str(width), "NO_COLOR": "1"})
    return result


def unfolded(output: str) -> list[str]:
    """Each table column's text read top to bottom (folds undone), plus every other line.

    Spaces are dropped: a value wrapped at a space or folded mid-word reads the same."""
    pieces: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if not block:
            return
        bars = [i for i, ch in enumerate(block[0]) if ch in BOX]
        for left, right in zip(bars, bars[1:]):
            pieces.append("".join(line[left + 1 : right] for line in block if len(line) > right).replace(" ", ""))
        block.clear()

    for line in output.splitlines():
        if line[:1] in BOX:
            if block and [i for i, ch in enumerate(line) if ch in BOX] != [i for i, ch in enumerate(block[0]) if ch in BOX]:
                flush()
            block.append(line)
        else:
            flush()
            pieces.append(line.replace(" ", ""))
    flush()
    return pieces


def assert_fits(output: str, values, width: int = 80) -> None:
    assert "…" not in output, output  # Rich's mark of a value it cut
    for line in output.splitlines():
        if line[:1] in BOX or line[:1] in "┏┡└┌├":
            assert len(line) <= width, f"table line wider than {width}: {line!r}"
    haystack = unfolded(output)
    for value in values:
        needle = value.replace(" ", "")
        assert any(needle in piece for piece in haystack), f"{value!r} is not whole in:\n{output}"


def _names(pg, url, sql: str) -> list[str]:
    return [row[0] for row in pg.execute(sql, database=url.database)]


@pytest.fixture
def seeded(seeded_db):
    return seeded_db("small")


def test_health_at_80_columns_cuts_nothing(pg, seeded):
    from todoctl.core.health.registry import REGISTRY

    result = render(seeded, "health")
    assert result.exit_code in (0, 1), result.output
    assert_fits(result.stdout, list(REGISTRY))


def test_schema_show_table_at_80_columns_cuts_nothing(pg, seeded):
    indexes = _names(pg, seeded, "SELECT indexname FROM pg_indexes WHERE tablename = 'tasks'")
    definitions = _names(pg, seeded, "SELECT indexdef FROM pg_indexes WHERE tablename = 'tasks'")
    columns = _names(pg, seeded, "SELECT column_name FROM information_schema.columns WHERE table_name = 'tasks'")
    constraints = _names(pg, seeded, "SELECT conname FROM pg_constraint WHERE conrelid = 'tasks'::regclass AND contype <> 'n'")
    result = render(seeded, "schema", "show", "tasks")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, [*indexes, *columns, *constraints])
    long_definition = max(definitions, key=len)
    assert len(long_definition) > 80  # the case this test is about: a value longer than the screen
    assert_fits(result.stdout, [long_definition.split(" USING ", 1)[1]])


def test_schema_show_at_80_columns(pg, seeded):
    tables = _names(pg, seeded, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    result = render(seeded, "schema", "show")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, tables)


def test_migrate_history_and_status_at_80_columns(migrated_db):
    from todoctl.core import migrate

    revisions = migrate.history()
    result = render(migrated_db, "migrate", "history")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, [r.revision for r in revisions] + [r.message for r in revisions] + [r.filename for r in revisions])
    result = render(migrated_db, "migrate", "status")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, [revisions[-1].revision])


def test_explain_list_is_one_line_per_query_and_show_has_the_rest(seeded):
    from todoctl import named_queries

    app_queries = named_queries.app_queries()
    result = render(seeded, "explain", "list")
    assert result.exit_code == 0, result.output
    title, *lines = result.stdout.splitlines()
    assert "explain show NAME" in title
    assert len(lines) == len(app_queries)
    for line, named in zip(lines, app_queries.values()):
        assert len(line) <= 80, line
        name, ms, ms_unit, buffers, buffers_unit, shown = line.split(None, 5)
        assert name == named.name
        # the budget in brief: its time and its buffers (explain show and --json have every term)
        assert f"{ms} {ms_unit}" == f"{named.budget.max_ms:g} ms", line
        assert f"{buffers} {buffers_unit}" == f"{named.budget.max_buffers:,} buf", line
        # the description, whole or cut after a whole word (explain show has it whole)
        assert named.description == shown or (shown.endswith("…") and named.description.startswith(shown[:-1])), line
        assert named.description[len(shown) - 1 : len(shown)] in ("", " ", ",", ";", ":") or named.description == shown, line
    assert "budget" not in result.stdout.split("\n", 1)[1]  # budgets are in explain show and --json

    for named in app_queries.values():
        shown = render(seeded, "explain", "show", named.name)
        assert shown.exit_code == 0, shown.output
        assert_fits(shown.stdout, [named.name, *named.budget.terms(), *named.indexes, *(p.name for p in named.params)])
        assert "SELECT" in shown.stdout or "UPDATE" in shown.stdout


def test_explain_run_and_check_at_80_columns(seeded):
    from todoctl import named_queries

    names = list(named_queries.app_queries())

    result = render(seeded, "explain", "run", "task-list")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, ["task-list", "Limit"])

    result = render(seeded, "explain", "check")
    assert result.exit_code in (0, 1), result.output
    assert_fits(result.stdout, names)


def test_migrate_verify_at_80_columns(migrated_db):
    result = render(migrated_db, "migrate", "verify")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, ["0001", "0007"])


def test_wide_draws_long_values_on_one_line(pg, seeded):
    definitions = _names(pg, seeded, "SELECT indexdef FROM pg_indexes WHERE tablename = 'tasks'")
    long_definition = max(definitions, key=len)
    shown = long_definition.split(" USING ", 1)[1]  # the view shows the method and its keys
    result = render(seeded, "--wide", "schema", "show", "tasks")
    assert result.exit_code == 0, result.output
    assert any(shown in line for line in result.stdout.splitlines()), result.stdout
    # ...and the option works after the subcommand too, like every global option
    result = render(seeded, "schema", "show", "tasks", "--wide")
    assert result.exit_code == 0, result.output
    assert any(shown in line for line in result.stdout.splitlines())


def test_no_colour_in_a_pipe_and_sql_in_ansi_colours(seeded):
    result = render(seeded, "explain", "run", "task-list")
    assert "\x1b[" not in result.stdout  # NO_COLOR and not a terminal

    from todoctl.render import layout

    assert layout.SQL_THEME in {"ansi_dark", "ansi_light"}
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    Console(file=out, force_terminal=True, color_system="truecolor", width=80).print(layout.sql("SELECT 1 FROM tasks"))
    # Only the 16 named ANSI colours (30-37, 90-97): no 24-bit colour a light theme cannot show.
    assert not re.search(r"\x1b\[[0-9;]*38;[25];", out.getvalue()), repr(out.getvalue())
    assert not re.search(r"\x1b\[[0-9;]*48;", out.getvalue()), repr(out.getvalue())


def test_watch_ticks_from_a_steady_start_and_skips_a_missed_tick():
    """A fake clock: sleep to start + n * interval, whatever the work took; an overrun skips ahead."""
    from todoctl.render.health import ticks

    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(round(seconds, 6))
        now[0] += seconds

    clock = ticks(1.0, clock=lambda: now[0], sleep=sleep)
    seen = [next(clock)]  # at 101
    now[0] += 0.3  # the work took 0.3 s
    seen.append(next(clock))  # at 102: slept 0.7, not 1.0
    now[0] += 2.5  # the work overran two ticks
    seen.append(next(clock))  # at 105
    assert seen == [1, 2, 5]
    assert sleeps == [1.0, 0.7, 0.5]


def test_watch_shows_failing_then_warning_checks_first(migrated_db):
    from dataclasses import replace

    from todoctl.core import health
    from todoctl.core.health.report import Status
    from todoctl.render.health import _frame, attention_first

    report = health.run(migrated_db)
    names = [c.name for c in report.checks]
    checks = list(report.checks)
    checks[-1] = replace(checks[-1], status=Status.FAIL)
    checks[-3] = replace(checks[-3], status=Status.WARN)
    checks[1] = replace(checks[1], status=Status.WARN)
    report = replace(report, checks=checks)

    ordered = attention_first(report).checks
    rank = {Status.FAIL: 0, Status.WARN: 1, Status.OK: 2, Status.SKIP: 3}
    assert [rank[c.status] for c in ordered] == sorted(rank[c.status] for c in ordered)
    assert ordered[0].name == names[-1]
    warned = [c.name for c in ordered if c.status is Status.WARN]
    assert warned == [n for n in names if n in warned]  # registry order within a status
    assert sorted(c.name for c in ordered) == sorted(names)

    from io import StringIO

    from rich.console import Console

    out = StringIO()
    Console(file=out, width=80, height=24).print(_frame(lambda: report, 2.0))
    lines = out.getvalue().splitlines()
    top = "\n".join(lines[:24])  # a 24-row terminal
    assert names[-1] in top and names[1] in top
