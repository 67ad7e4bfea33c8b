"""Every error path of every command: one line of error, one line of hint, the documented
exit code, and never the password (a sentinel in the URL)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from todoctl.cli.app import app

runner = CliRunner()
SENTINEL = "Bad-Input-Sentinel-Pw-2718"

MALFORMED = f"postgresql://me:{SENTINEL}@db.example.com:port/app"
UNKNOWN_HOST = f"postgresql://me:{SENTINEL}@no-such-host.invalid:5432/app"
REFUSED = f"postgresql://me:{SENTINEL}@127.0.0.1:1/app"
NOT_POSTGRES = f"mysql://me:{SENTINEL}@127.0.0.1/app"

# Commands that need a database, as a user would type them.
DATABASE_COMMANDS = [
    ("migrate", "up"),
    ("migrate", "down"),
    ("migrate", "status"),
    ("migrate", "stamp", "head"),
    ("migrate", "check"),
    ("migrate", "sql"),
    ("migrate", "verify"),
    ("migrate", "new", "-m", "x"),
    ("db", "protect"),
    ("db", "protection"),
    ("health",),
    ("schema", "show"),
    ("schema", "diff"),
    ("schema", "dump"),
    ("schema", "erd"),
    ("schema", "lint"),
    ("seed", "--users", "3"),
    ("explain", "list"),
    ("explain", "task-list"),
    ("explain", "sql", "SELECT 1"),
    ("explain", "check"),
]
# explain list reads the registry only; it needs no database.
NO_DATABASE = {("explain", "list")}

BAD_URLS = [
    ("malformed", MALFORMED, "malformed database URL"),
    ("unknown-host", UNKNOWN_HOST, "unknown host"),
    ("refused", REFUSED, "connection refused"),
    ("not-postgres", NOT_POSTGRES, "unsupported database URL scheme"),
]


def check_one_error(result, code: int, expected: str) -> None:
    output = result.stdout + result.stderr
    assert SENTINEL not in output
    assert result.exit_code == code, output
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("target: ")]
    assert lines and lines[0].startswith("Error: "), output
    assert expected in "\n".join(lines[:2]), output
    assert any(line.startswith("Hint: ") for line in lines[1:2]), output
    assert "Traceback" not in output


def registered(args) -> bool:
    from typer.main import get_command

    return args[0] in get_command(app).commands  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind,url,expected", BAD_URLS, ids=[b[0] for b in BAD_URLS])
@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=[" ".join(a) for a in DATABASE_COMMANDS])
def test_bad_url_is_exit_3_with_a_hint_and_no_password(args, kind, url, expected):
    if not registered(args):
        pytest.skip(f"no {args[0]} command")
    if args in NO_DATABASE:
        pytest.skip("needs no database")
    # --verbose: the traceback it adds must be masked too.
    result = runner.invoke(app, ["--verbose", "-d", url, *args], env={"TODOCTL_CONNECT_TIMEOUT": "3"})
    check_one_error(result, 3, expected)
    if "--json" not in args:
        as_json = runner.invoke(app, ["-d", url, *args, "--json"], env={"TODOCTL_CONNECT_TIMEOUT": "3"})
        assert SENTINEL not in as_json.stdout + as_json.stderr
        if as_json.exit_code != 2:  # a command without --json rejects the option: still a usage error
            assert as_json.exit_code == 3
            assert json.loads(as_json.stdout)["error"]["exit_code"] == 3


def test_missing_database_is_exit_3(pg):
    url = pg.url_for("no_such_database_here").url
    for args in (("migrate", "status"), ("health",), ("schema", "show")):
        result = runner.invoke(app, ["-d", url, *args])
        check_one_error(result, 3, "does not exist")


# (arguments after -d URL, exit code, text in the error line)
USAGE_CASES = [
    (("migrate", "up", "nope"), 2, "unknown revision 'nope'"),
    (("migrate", "down", "nope"), 2, "unknown revision 'nope'"),
    (("migrate", "stamp", "nope"), 2, "unknown revision 'nope'"),
    (("migrate", "up", "--lock-wait", "-1"), 2, "--lock-wait"),
    (("migrate", "up", "--bogus"), 2, "No such option"),
    (("migrate", "sql", "0001:nope"), 2, "unknown revision 'nope'"),
    (("health", "--check", "no-such-check"), 2, "no-such-check"),
    (("health", "--threshold", "nonsense"), 2, "nonsense"),
    (("schema", "show", "no_such_table"), 2, "no_such_table"),
    (("schema", "lint", "--skip", "no-such-rule"), 2, "no-such-rule"),
    (("seed", "--users", "-5"), 2, "-5"),
    (("seed", "--users", "1000000000"), 2, "1000000000"),
    (("seed", "--profile", "no-such-profile"), 2, "no-such-profile"),
    (("seed", "--append", "--truncate"), 2, "--truncate"),
    (("explain", "no-such-query"), 2, "no-such-query"),
    (("explain", "task-lst"), 2, "task-list"),
    (("explain", "task-list", "--param", "user_id=not-a-uuid"), 2, "user_id"),
    (("explain", "task-list", "--param", "no_such_param=1"), 2, "no_such_param"),
    (("explain", "sql", "SELECT 1; SELECT 2"), 2, "exactly one"),
]


@pytest.mark.parametrize("args,code,expected", USAGE_CASES, ids=[" ".join(c[0]) for c in USAGE_CASES])
def test_bad_arguments(migrated_db, args, code, expected):
    if not registered(args):
        pytest.skip(f"no {args[0]} command")
    before = _row_counts(migrated_db)
    result = runner.invoke(app, ["-d", migrated_db.url, *args])
    check_one_error(result, code, expected)
    assert _row_counts(migrated_db) == before  # the database is untouched


def test_malformed_profile_file_is_exit_2(tmp_path, migrated_db):
    if not registered(("seed",)):
        pytest.skip("no seed command")
    bad = tmp_path / "bad.toml"
    bad.write_text("[users\ncount = 'many'\n")
    result = runner.invoke(app, ["-d", migrated_db.url, "seed", "--profile", str(bad)])
    check_one_error(result, 2, "bad.toml")
    assert _row_counts(migrated_db) == {t: 0 for t in _row_counts(migrated_db)}


def _row_counts(url) -> dict[str, int]:
    import psycopg

    from todoctl.todo.models import APP_TABLES

    with psycopg.connect(url.url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in APP_TABLES}
