"""The user's vocabulary (issue 16): Alembic's verbs, suggestions, bare groups, global options anywhere."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from todoctl.cli.app import app
from todoctl.core import migrate
from todoctl.errors import TodoctlError

runner = CliRunner()
HISTORY = [r.revision for r in migrate.history()]
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


@pytest.mark.parametrize("words", [("seed", "--user", "100"), ("seed", "--usres", "100")])
def test_option_suggestions_are_ranked_by_similarity(words):
    # --quiet and --seed share letters with --user, but --users is the one meant (and alone that close).
    result = invoke(*words)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1] == "Hint: did you mean '--users'? run 'todoctl seed --help' for usage"


def test_several_close_options_come_best_first():
    result = invoke("migrate", "up", "--lock-wiat", "3")
    assert result.exit_code == 2
    assert "did you mean '--lock-wait'" in result.stderr


@pytest.mark.parametrize(
    ("words", "meant"),
    [
        (("migrate", "up", "-l", "5s"), "did you mean '--lock-timeout', '--lock-wait', '--lock-retries'?"),
        (("schema", "diff", "-a", "history"), "did you mean '--against'?"),
        (("migrate", "status", "-j"), "did you mean '--json'?"),
        (("migrate", "up", "-q"), "-q is --quiet in 'todoctl seed', and 'todoctl migrate up' has no --quiet;"),
    ],
)
def test_a_short_flag_that_does_not_exist_names_the_long_one(words, meant):
    result = invoke(*words)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1] == f"Hint: {meant} run 'todoctl {' '.join(words[:2])} --help' for usage"


def test_every_short_flag_a_command_lacks_gets_a_hint():
    """Each short flag todoctl uses anywhere, given to commands that lack it: the hint names a long option.

    Each flag is tried on the first and the last command without it, and on `migrate down`
    (which lets unknown options through, so that `-2` is a target)."""
    import re

    import typer.main

    root = typer.main.get_command(app)
    flags, leaves = set(), []

    def walk(command, path):
        for param in command.params:
            flags.update(f for f in (*param.opts, *param.secondary_opts) if re.fullmatch(r"-[A-Za-z]", f) and f != "-h")
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, (*path, name))
        else:
            leaves.append((path, {o for p in command.params for o in (*p.opts, *p.secondary_opts)}))

    walk(root, ())
    tried = set()
    for flag in sorted(flags - {"-d", "-v"}):  # -d and -v are global: they work anywhere
        lacking = [path for path, own in leaves if flag not in own]
        tried.update((path, flag) for path in {lacking[0], lacking[-1], ("migrate", "down")} if path in lacking)
    for path, flag in sorted(tried):
        result = invoke(*path, flag)
        assert result.exit_code == 2, (path, flag, result.output)
        hint = result.stderr.splitlines()[1]
        assert re.search(r"'?--[a-z]", hint.split(" run '")[0]), (path, flag, hint)


# ---------------------------------------------------------------- other tools' commands (cli/habits.py)


@pytest.mark.parametrize(
    ("words", "meant"),
    [
        (("showmigrations",), "todoctl migrate status"),
        (("migrate", "deploy"), "todoctl migrate up"),
        (("status",), "todoctl migrate status"),
        (("makemigrations",), "todoctl migrate new -m MSG"),
        (("makemigrations", "--check"), "todoctl migrate check"),
        (("sqlmigrate", "0007"), "todoctl migrate sql 0007"),
        (("sqlmigrate", "todo", "0005", "--backwards"), "todoctl migrate sql 0005 --down"),
        (("migrate", "revision", "--autogenerate", "-m", "add reminders"), "todoctl migrate new -m 'add reminders'"),
        (("migrate", "dev"), "todoctl migrate new -m MSG"),
        (("db:migrate",), "todoctl migrate up"),
        (("db:rollback",), "todoctl migrate down"),
        (("upgrade", "0005"), "todoctl migrate up 0005"),
        (("downgrade", "base"), "todoctl migrate down base"),
        (("db", "seed"), "todoctl seed"),
        (("dump",), "todoctl schema dump"),
    ],
)
def test_another_tools_command_points_to_todoctls(words, meant):
    result = invoke(*words)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    word = words[1] if words[0] in ("migrate", "db") and len(words) > 1 else words[0]
    assert lines[0] == f"Error: No such command {word!r}. Did you mean: {meant}?"
    assert lines[1].startswith("Hint: ") and "--help' for usage" in lines[1]
    assert len(lines) == 2


def test_a_pointer_in_json_mode_is_a_json_error():
    result = invoke("showmigrations", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["message"] == "No such command 'showmigrations'. Did you mean: todoctl migrate status?"
    assert error["exit_code"] == 2


def _habit_cases():
    import shlex

    import typer.main

    from todoctl.cli.habits import HABITS, TOOLS, command_path

    root = typer.main.get_command(app)
    cases = []
    for habit in HABITS:
        words = shlex.split(habit.typed)[1:]
        if len(command_path(root, words)) >= TOOLS[habit.tool].depth:
            continue  # todoctl has the same words (`prisma migrate status`, `manage.py migrate`)
        cases.append(pytest.param(habit, words, id=habit.typed))
    return cases


@pytest.mark.parametrize(("habit", "words"), _habit_cases())
def test_every_habit_of_the_table_answers_with_todoctls_command(habit, words):
    """The table the docs' "Coming from" page is generated from is also what the CLI answers with."""
    import shlex

    import typer.main

    from todoctl.cli.habits import command_path

    root = typer.main.get_command(app)
    result = invoke(*words)
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert "Did you mean: todoctl " in first, first
    suggested = shlex.split(first.split("Did you mean: ", 1)[1].removesuffix("?"))
    expected = shlex.split(habit.todoctl)
    # The same todoctl command (a word typed alone may match another tool's row for it: `status`).
    assert command_path(root, suggested[1:]) == command_path(root, expected[1:]), (habit, first)


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


@pytest.mark.parametrize(
    "before, after",
    [(("-d", "{a}"), ("-d", "{b}")), (("--database-url={a}",), ("-d{b}",)), (("-d", "{a}", "-d", "{b}"), ())],
    ids=["-d-twice", "long-and-short", "both-before"],
)
def test_two_different_databases_in_one_command_are_refused_before_anything_runs(migrated_db, empty_db, before, after):
    """A wrapper appending ``-d "$SCRATCH"`` to ``-d "$PROD" migrate reset --yes`` reset PROD
    (attack pass 2, F9): two databases named is exit 2, whichever order, and neither is touched."""
    fill = {"a": migrated_db.url, "b": empty_db.url}
    args = [*(p.format(**fill) for p in before), "migrate", "reset", "--yes", *(p.format(**fill) for p in after)]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert "given twice with different values" in result.output
    assert invoke("migrate", "status", "-d", migrated_db.url, "--json").exit_code == 0
    assert json.loads(invoke("migrate", "status", "-d", migrated_db.url, "--json").stdout)["at_head"] is True


def test_the_same_database_twice_is_fine(migrated_db):
    result = invoke("-d", migrated_db.url, "migrate", "status", "-d", migrated_db.url, "--json")
    assert result.exit_code == 0, result.output


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
    assert hoist_global_options(root, ["-d", "a", "migrate", "status", "-v", "-da"]) == ["-v", "-da", "-d", "a", "migrate", "status"]
    with pytest.raises(TodoctlError):  # two databases named: refused, not one silently chosen
        hoist_global_options(root, ["-d", "a", "migrate", "status", "-v", "-db"])
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
