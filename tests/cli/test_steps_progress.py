"""Progress that informs: `migrate verify` counts its revisions on a terminal's stderr (done of
total, percentage, rate, time left), and prints nothing of it in a pipe."""

from __future__ import annotations

from io import StringIO

from rich.console import Console
from typer.testing import CliRunner

from todoctl.cli.app import app
from todoctl.render.steps import step_progress


def test_on_a_terminal_the_bar_counts_steps_with_percentage_rate_and_time_left():
    out = StringIO()
    terminal = Console(file=out, force_terminal=True, width=120, color_system=None)
    with step_progress("verify", "revisions", console=terminal) as advance:
        for done in range(1, 5):
            advance(done, 8, f"revision 000{done}")
        terminal.file.flush()
    text = out.getvalue()
    assert "verify" in text and "4/8" in text and "50%" in text and "revisions/s" in text
    assert "revision 0004" in text


def test_in_a_pipe_there_is_no_progress_at_all(migrated_db):
    result = CliRunner().invoke(app, ["-d", migrated_db.url, "migrate", "verify"])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == ["target"]  # nothing else


def test_core_verify_tells_each_step(migrated_db):
    from todoctl.core import migrate

    seen: list[tuple[int, int, str]] = []
    report = migrate.verify(migrated_db, on_step=lambda done, total, what: seen.append((done, total, what)))
    assert report.ok
    total = len(report.steps) + 1
    assert [done for done, _, _ in seen] == list(range(1, total + 1))
    assert {t for _, t, _ in seen} == {total}
