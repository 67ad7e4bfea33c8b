"""The user's vocabulary (issue 16): Alembic's verbs, suggestions, bare groups, global options anywhere."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from todoctl.cli.app import app
from todoctl.core import migrate

runner = CliRunner()
HISTORY = [r.id for r in migrate.history()]
HEAD = HISTORY[-1]
CLOSED = "postgresql://u@127.0.0.1:1/nothing"  # nothing listens on port 1


def invoke(*args: str):
    return runner.invoke(app, list(args))


# ---------------------------------------------------------------- Alembic's verbs


def test_upgrade_and_downgrade_are_up_and_down(empty_db):
    up = invoke("-d", empty_db.url, "migrate", "upgrade", "--json")
    assert up.exit_code == 0, up.output
    assert json.loads(up.stdout)["after"] == [HEAD]

    down = invoke("-d", empty_db.url, "migrate", "downgrade", "-2")
    assert down.exit_code == 0, down.output
    assert migrate.status(empty_db).current == [HISTORY[-3]]


def test_aliases_are_listed_as_aliases():
    result = invoke("migrate", "--help")
    assert result.exit_code == 0
    assert "Alias of `up`" in result.stdout and "Alias of `down`" in result.stdout


def test_current_is_exit_0_even_when_behind(empty_db):
    behind = invoke("-d", empty_db.url, "migrate", "current")
    assert behind.exit_code == 0, behind.output
    assert behind.stdout.strip() == f"base (not at head; head is {HEAD})"

    assert invoke("-d", empty_db.url, "migrate", "up", HISTORY[1]).exit_code == 0
    document = json.loads(invoke("-d", empty_db.url, "migrate", "current", "--json").stdout)
    assert document["current"] == [HISTORY[1]] and document["heads"] == [HEAD] and document["at_head"] is False


def test_current_at_head(migrated_db):
    result = invoke("-d", migrated_db.url, "migrate", "current")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{HEAD} (head)"


def test_current_without_a_server_is_exit_3():
    result = invoke("-d", CLOSED, "migrate", "current")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: ")


def test_heads_needs_no_database():
    result = invoke("-d", CLOSED, "migrate", "heads", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [r["revision"] for r in document["revisions"]] == [HEAD] and document["heads"] == [HEAD]
    text = invoke("migrate", "heads")
    assert text.exit_code == 0
    assert text.stdout.startswith(f"{HEAD} (head) ")


def test_up_sql_prints_what_is_pending_and_changes_nothing(empty_db):
    assert invoke("-d", empty_db.url, "migrate", "up", HISTORY[-2]).exit_code == 0
    result = invoke("-d", empty_db.url, "migrate", "up", "--sql")
    assert result.exit_code == 0, result.output
    assert f"Running upgrade {HISTORY[-2]} -> {HEAD}" in result.stdout
    assert "Running upgrade " + HISTORY[0] not in result.stdout
    assert "SET lock_timeout" in result.stdout
    assert migrate.status(empty_db).current == [HISTORY[-2]]


def test_down_sql_with_a_range_needs_no_database():
    result = invoke("-d", CLOSED, "migrate", "down", "--sql", f"{HEAD}:-1", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert f"Running downgrade {HEAD} -> {HISTORY[-2]}" in document["sql"]


def test_down_sql_from_the_database(migrated_db):
    result = invoke("-d", migrated_db.url, "migrate", "downgrade", "--sql", "-2")
    assert result.exit_code == 0, result.output
    assert f"Running downgrade {HISTORY[-2]} -> {HISTORY[-3]}" in result.stdout
    assert migrate.status(migrated_db).current == [HEAD]


def test_up_sql_at_head_is_empty(migrated_db):
    result = invoke("-d", migrated_db.url, "migrate", "up", "--sql")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("-- nothing to migrate")


def test_up_sql_unknown_revision_is_exit_2():
    result = invoke("migrate", "up", "--sql", "base:nope")
    assert result.exit_code == 2
    assert "unknown revision 'nope'" in result.stderr


@pytest.mark.parametrize(
    ("args", "meant"),
    [(("down", "2"), "todoctl migrate down -2"), (("downgrade", "2"), "todoctl migrate down -2"), (("up", "2"), "todoctl migrate up +2")],
)
def test_a_bare_step_count_is_a_usage_error(args, meant):
    # Refused before any connection: the closed port is never tried.
    result = invoke("-d", CLOSED, "migrate", *args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: '2' is neither a revision nor a step count"
    assert lines[1].startswith("Hint: ") and meant in lines[1]
    assert len(lines) == 2


def test_a_numeric_revision_id_is_still_a_target(empty_db):
    assert HISTORY[1].isdigit()  # 0002: digits, and a revision
    result = invoke("-d", empty_db.url, "migrate", "up", HISTORY[1])
    assert result.exit_code == 0, result.output
    assert migrate.status(empty_db).current == [HISTORY[1]]


# ---------------------------------------------------------------- suggestions


def test_mistyped_command_suggests_the_closest():
    result = invoke("migrate", "stauts")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: No such command 'stauts'. Did you mean 'status'?",
        "Hint: run 'todoctl migrate --help' for usage",
    ]


def test_mistyped_option_suggests_the_closest():
    result = invoke("migrate", "status", "--jsn")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: No such option: --jsn",
        "Hint: did you mean '--json'? run 'todoctl migrate status --help' for usage",
    ]


@pytest.mark.parametrize("word", ["-n", "--count"])
def test_seed_count_words_suggest_users(word):
    result = invoke("seed", word, "100")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines == [f"Error: No such option: {word}", "Hint: did you mean '--users'? run 'todoctl seed --help' for usage"]


def test_mistyped_option_in_json_mode_is_a_json_error():
    result = invoke("migrate", "status", "--json", "--jsn")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["hint"].startswith("did you mean '--json'?")


# ---------------------------------------------------------------- a group without a subcommand


@pytest.mark.parametrize("group", [(), ("migrate",), ("db",), ("schema",), ("explain",), ("explain", "baseline")])
def test_bare_group_prints_short_help_and_exits_0(group):
    result = invoke(*group)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: {' '.join(('todoctl', *group))} [OPTIONS] COMMAND [ARGS]...")
    assert "Commands:" in result.stdout
    assert "Error" not in result.output
    assert "Options:" not in result.stdout  # the short help; --help has the rest


def test_bare_migrate_lists_every_command():
    result = invoke("migrate")
    for name in ("up", "down", "status", "current", "heads", "upgrade", "downgrade"):
        assert f"  {name} " in result.stdout


# ---------------------------------------------------------------- global options after the subcommand


@pytest.mark.parametrize(
    "form", [("-d", "{url}"), ("-d{url}",), ("--database-url", "{url}"), ("--database-url={url}",)]
)
def test_database_url_after_the_subcommand(migrated_db, form):
    args = [part.format(url=migrated_db.url) for part in form]
    result = invoke("migrate", "status", *args, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["at_head"] is True


def test_database_url_after_the_subcommand_is_used(empty_db):
    # Behind: proves the URL after the subcommand was the one used (the default would differ).
    result = invoke("migrate", "current", "-d", empty_db.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("base")


def test_verbose_after_the_subcommand():
    result = invoke("migrate", "heads", "--verbose")
    assert result.exit_code == 0, result.output
    assert invoke("migrate", "heads", "-v").exit_code == 0


def test_an_option_value_is_never_taken_for_a_global_option():
    from todoctl.cli.app import app as typer_app
    from todoctl.cli.habits import hoist_global_options
    from typer.main import get_command

    root = get_command(typer_app)
    assert hoist_global_options(root, ["migrate", "new", "-m", "-d", "--empty"]) == ["migrate", "new", "-m", "-d", "--empty"]
    assert hoist_global_options(root, ["migrate", "status", "--", "-d", "x"]) == ["migrate", "status", "--", "-d", "x"]
    assert hoist_global_options(root, ["-d", "a", "migrate", "status", "-v", "-db"]) == ["-v", "-db", "-d", "a", "migrate", "status"]
    assert hoist_global_options(root, ["explain", "task-list", "-d", "u", "-n", "3"]) == ["-d", "u", "explain", "task-list", "-n", "3"]


def test_no_subcommand_uses_d_or_v():
    """The hoisting relies on it: a subcommand that takes -d or -v would lose it to the root."""
    from typer.main import get_command

    from todoctl.cli.app import app as typer_app
    from todoctl.cli.habits import GLOBAL_FLAGS, GLOBAL_WITH_VALUE, _options_of

    def walk(command):
        for sub in getattr(command, "commands", {}).values():
            yield sub
            yield from walk(sub)

    for command in walk(get_command(typer_app)):
        assert not set(_options_of(command)) & {*GLOBAL_FLAGS, *GLOBAL_WITH_VALUE}, command.name


# ---------------------------------------------------------------- todoctl version


def test_version_reports_the_server(pg, migrated_db):
    result = invoke("-d", migrated_db.url, "version", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    from importlib.metadata import version as installed

    assert document["todoctl"] and document["python"]
    assert document["packages"] == {name: installed(name) for name in ("psycopg", "sqlalchemy", "alembic")}
    assert document["server"]["version"] == pg.execute("SHOW server_version")[0][0]
    assert document["server"]["error"] is None

    text = invoke("version", "-d", migrated_db.url)
    assert text.exit_code == 0, text.output
    assert f"PostgreSQL {document['server']['version']} (" in text.stdout


def test_version_with_an_unreachable_server_still_reports_and_masks():
    secret = "pw-Sentinel-4471"
    result = invoke("version", "-d", f"postgresql://u:{secret}@127.0.0.1:1/x")
    assert result.exit_code == 0, result.output
    assert "connection refused" in result.stdout
    assert secret not in result.output


def test_version_never_starts_the_embedded_server(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "DATABASE_URL_UNPOOLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TODOCTL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # no .env here
    result = invoke("version", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["server"] is None
    assert not (tmp_path / "home" / "pgdata").exists()


def test_dash_dash_version_stays_light():
    from tests.cli.test_startup import HEAVY, imported_modules

    heavy = sorted(m for m in imported_modules("--version") if m.split(".")[0] in HEAVY)
    assert heavy == []


# ---------------------------------------------------------------- db wait


def test_db_wait_returns_when_the_server_accepts(migrated_db):
    result = invoke("db", "wait", "--timeout", "30", "-d", migrated_db.url, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["attempts"] >= 1


def test_db_wait_gives_up_with_exit_3_and_the_last_error():
    secret = "pw-Sentinel-9917"
    result = invoke("db", "wait", "--timeout", "0.5", "-d", f"postgresql://u:{secret}@127.0.0.1:1/x")
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: ") and "did not accept connections within 0.5s" in lines[0]
    assert "connection refused" in lines[0]
    assert lines[1].startswith("Hint: ")
    assert secret not in result.output


def test_db_wait_negative_timeout_is_a_usage_error():
    result = invoke("db", "wait", "--timeout", "-1")
    assert result.exit_code == 2
