"""A table of bad inputs across every command: each gets its documented exit code (README, "Exit
codes"), exactly one `Error:` line followed by a `Hint:` line (or the JSON error document with
--json), no traceback, never the password, and the database unchanged.

Every case that names a database runs against one migrated database holding a few seeded rows,
reached through a URL carrying a sentinel password (the server trusts the socket, so the
password is never checked, only carried); a fingerprint of its tables and alembic_version is
compared after each case.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from typer.testing import CliRunner

from tests.helpers import REPO, start_todoctl, todoctl_command, todoctl_env
from todoctl.cli.app import app

runner = CliRunner()
SENTINEL = "Table-Sentinel-Pw-31415"

# Every case is expected to pass: the fixes other branches made (db-trust, app-module, health-trust,
# explain-safety) have landed.
DB_TRUST = APP_MODULE = HEALTH_TRUST = EXPLAIN_SAFETY = UNOWNED = ()


def not_run_until(branch: str):
    return ()


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]  # after `-d URL`; "{profiles}" and "{tmp}" are filled in
    code: int
    expect: str  # text found in the Error or Hint line
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = "db"  # "db": the guarded database; None: no -d; else this URL
    marks: tuple = ()


def case(id, args, code, expect, *, env=None, url="db", marks=()):
    return Case(id, tuple(args), code, expect, env or {}, url, tuple(marks) if isinstance(marks, (list, tuple)) else (marks,))


BIG = str(10**9)
HUGE = str(10**12)

CASES = [
    # ---- explain: --runs, --param, --timeout, --factor, --min-ms, names, formats
    case("explain runs 0", ["explain", "task-list", "--runs", "0"], 2, "--runs"),
    case("explain runs 10**9", ["explain", "task-list", "--runs", BIG], 2, "--runs"),
    case("explain runs abc", ["explain", "task-list", "--runs", "abc"], 2, "--runs"),
    case("explain sql runs 10**9", ["explain", "sql", "SELECT 1", "--runs", BIG], 2, "--runs"),
    case("explain check runs 1001", ["explain", "check", "--runs", "1001"], 2, "--runs"),
    case("baseline save runs 0", ["explain", "baseline", "save", "{tmp}/never.json", "--runs", "0"], 2, "--runs"),
    case("param batch=huge", ["explain", "overdue-tasks", "--param", "batch=huge"], 2, "batch"),
    case("param batch=-1", ["explain", "overdue-tasks", "--param", "batch=-1"], 2, "batch"),
    case("param batch=0", ["explain", "overdue-tasks", "--param", "batch=0"], 2, "batch"),
    case("param batch=10001", ["explain", "overdue-tasks", "--param", "batch=10001"], 2, "1..10,000"),
    case("param batch=10**30", ["explain", "overdue-tasks", "--param", "batch=" + "9" * 30], 2, "batch"),
    case("param batch=1e3", ["explain", "overdue-tasks", "--param", "batch=1e3"], 2, "batch"),
    case("param as_of=yesterday", ["explain", "overdue-tasks", "--param", "as_of=yesterday"], 2, "as_of"),
    case("param status=nope", ["explain", "task-list", "--param", "status=nope"], 2, "status"),
    case("param user_id=not-a-uuid", ["explain", "task-list", "--param", "user_id=not-a-uuid"], 2, "user_id"),
    case("param unknown", ["explain", "task-list", "--param", "no_such_param=1"], 2, "no_such_param"),
    case("param without =", ["explain", "task-list", "--param", "status"], 2, "name=value"),
    case("param half a keyset", ["explain", "task-list", "--param", "after_id=" + "0" * 8 + "-0000-0000-0000-" + "0" * 12], 2, "after_due"),
    case("param NUL in text", ["explain", "task-search", "--param", "q=a\x00b"], 2, "q="),
    case("timeout banana", ["explain", "task-list", "--timeout", "banana"], 2, "--timeout"),
    case("timeout 5S", ["explain", "task-list", "--timeout", "5S"], 2, "--timeout"),
    case("timeout 0", ["explain", "task-list", "--timeout", "0"], 2, "--timeout"),
    case("timeout past INT_MAX ms", ["explain", "task-list", "--timeout", "99999999999s"], 2, "--timeout"),
    case("factor 0", ["explain", "check", "--factor", "0"], 2, "--factor"),
    case("factor 1", ["explain", "check", "--factor", "1"], 2, "--factor"),
    case("factor nan", ["explain", "check", "--factor", "nan"], 2, "--factor"),
    case("factor abc", ["explain", "check", "--factor", "abc"], 2, "--factor"),
    case("min-ms -1", ["explain", "check", "--min-ms", "-1"], 2, "--min-ms"),
    case("baseline missing", ["explain", "check", "--baseline", "{tmp}/no-such-baseline.json"], 2, "baseline"),
    case("baseline garbage", ["explain", "check", "--baseline", "{tmp}/garbage.json"], 2, "garbage.json"),
    case("check unknown query", ["explain", "check", "--query", "nope"], 2, "nope"),
    case("unknown query", ["explain", "no-such-query"], 2, "no-such-query"),
    case("query typo suggests", ["explain", "task-lst"], 2, "task-list"),
    case("format nope", ["explain", "task-list", "--format", "nope"], 2, "--format"),
    case("sql two statements", ["explain", "sql", "SELECT 1; SELECT 2"], 2, "one"),
    case("sql empty", ["explain", "sql", ""], 2, "SQL"),
    case("sql invalid", ["explain", "sql", "SELEC 1"], 2, "SELEC"),
    case("sql already EXPLAIN", ["explain", "sql", "EXPLAIN SELECT 1"], 2, "EXPLAIN"),
    case("sql write refused", ["explain", "sql", "DELETE FROM tasks"], 4, "read", marks=EXPLAIN_SAFETY),
    # ---- migrate: targets, timeouts, lock options
    case("up unknown target", ["migrate", "up", "nope"], 2, "nope"),
    case("down unknown target", ["migrate", "down", "nope"], 2, "nope"),
    case("down +1", ["migrate", "down", "+1"], 2, "+1"),
    case("stamp unknown", ["migrate", "stamp", "nope"], 2, "nope"),
    case("up statement-timeout parsecs", ["migrate", "up", "--statement-timeout", "5 parsecs"], 2, "--statement-timeout"),
    case("down statement-timeout banana", ["migrate", "down", "--statement-timeout", "banana"], 2, "--statement-timeout"),
    case("down lock-timeout 5S", ["migrate", "down", "--lock-timeout", "5S"], 2, "--lock-timeout"),
    case("down lock-timeout -1", ["migrate", "down", "--lock-timeout", "-1"], 2, "--lock-timeout"),
    case("down lock-timeout 25d", ["migrate", "down", "--lock-timeout", "25d"], 2, "--lock-timeout"),
    case("up lock-wait -1", ["migrate", "up", "--lock-wait", "-1"], 2, "--lock-wait"),
    case("up lock-wait abc", ["migrate", "up", "--lock-wait", "abc"], 2, "--lock-wait"),
    case("up lock-retries -1", ["migrate", "up", "--lock-retries", "-1"], 2, "--lock-retries"),
    case("up unknown option", ["migrate", "up", "--bogus"], 2, "--bogus"),
    case("sql A:nope", ["migrate", "sql", "0001:nope"], 2, "nope"),
    case("sql nope", ["migrate", "sql", "nope"], 2, "nope"),
    case("lint A:nope", ["migrate", "lint", "0001:nope"], 2, "nope", marks=UNOWNED),
    case("new without -m", ["migrate", "new"], 2, "-m"),
    case("migrations dir missing", ["migrate", "status", "--migrations", "{tmp}/no-such-dir"], 2, "no-such-dir"),
    # ---- seed: options and profiles
    case("seed users -5", ["seed", "--users", "-5"], 2, "--users"),
    case("seed users 10**9", ["seed", "--users", BIG], 2, "--users"),
    case("seed users 10**12", ["seed", "--users", HUGE], 2, "--users"),
    case("seed users abc", ["seed", "--users", "abc"], 2, "--users"),
    case("seed rows nan", ["seed", "--rows", "tasks=nan"], 2, "--rows"),
    case("seed rows inf", ["seed", "--rows", "inf"], 2, "--rows"),
    case("seed rows -1", ["seed", "--rows", "tasks=-1"], 2, "--rows"),
    case("seed rows too big", ["seed", "--rows", "tasks=30000000"], 2, "--rows"),
    case("seed rows unknown table", ["seed", "--rows", "taks=5"], 2, "tasks"),
    case("seed locale unknown", ["seed", "--locale", "xx_YY"], 2, "xx_YY"),
    case("seed seed -1", ["seed", "--seed", "-1"], 2, "--seed"),
    case("seed now yesterday", ["seed", "--now", "yesterday"], 2, "--now"),
    case("seed unknown profile", ["seed", "--profile", "no-such-profile"], 2, "no-such-profile"),
    case("seed append+truncate", ["seed", "--append", "--truncate"], 2, "--truncate"),
    case("seed filled tables", ["seed", "--profile", "small"], 4, "--append"),
    case("profile rows inf", ["seed", "--profile", "{profiles}/count_inf.toml"], 2, "tables.users.rows"),
    case("profile rows -1", ["seed", "--profile", "{profiles}/count_neg.toml"], 2, "tables.users.rows"),
    case("profile per_parent inf", ["seed", "--profile", "{profiles}/per_user_inf.toml"], 2, "tables.tasks.per_parent"),
    case("profile negative weight", ["seed", "--profile", "{profiles}/neg_weight.toml"], 2, "status.weights"),
    case("profile huge weights", ["seed", "--profile", "{profiles}/huge_weights.toml"], 2, "per_parent.weights"),
    case("profile unknown key", ["seed", "--profile", "{profiles}/unknown_key.toml"], 2, "tables.users.colour"),
    case("profile old layout", ["seed", "--profile", "{profiles}/old_layout.toml"], 2, "[tables.users]"),
    case("profile unknown column", ["seed", "--profile", "{profiles}/unknown_column.toml"], 2, "emial"),
    case("profile malformed TOML", ["seed", "--profile", "{profiles}/malformed.toml"], 2, "malformed.toml"),
    case("profile without reference_time", ["seed", "--profile", "{profiles}/no_reference.toml"], 2, "reference_time"),
    case("profile not UTF-8", ["seed", "--profile", "{profiles}/latin1.toml"], 2, "latin1.toml"),
    case("profile missing file", ["seed", "--profile", "{profiles}/missing.toml"], 2, "missing.toml"),
    # ---- schema
    case("show unknown table", ["schema", "show", "no_such_table"], 2, "no_such_table"),
    case("lint skip unknown", ["schema", "lint", "--skip", "no-such-rule"], 2, "no-such-rule"),
    case("diff against nope", ["schema", "diff", "--against", "nope"], 2, "--against"),
    # ---- health
    case("health unknown check", ["health", "--check", "no-such-check"], 2, "no-such-check"),
    case("health threshold no =", ["health", "--threshold", "nonsense"], 2, "nonsense"),
    case("health unknown threshold", ["health", "--threshold", "no_such_threshold=1"], 2, "no_such_threshold"),
    case("health threshold x=abc", ["health", "--threshold", "long_query_warn_s=abc"], 2, "long_query_warn_s"),
    case("health threshold inf", ["health", "--threshold", "long_query_warn_s=inf"], 2, "long_query_warn_s"),
    case("health pings 0", ["health", "--pings", "0"], 2, "--pings", marks=HEALTH_TRUST),
    case("health pings 10**9", ["health", "--pings", BIG], 2, "--pings", marks=not_run_until("health-trust")),
case("health probe 100000", ["health", "--probe", "100000"], 2, "--probe", marks=not_run_until("app-module")),
    case("health probe -1", ["health", "--probe", "-1"], 2, "--probe"),
    case("health watch 0", ["health", "--watch", "0"], 2, "--watch"),
    case("health watch with json", ["health", "--watch", "5", "--json"], 2, "--watch"),
    case("db unknown option", ["db", "protect", "--bogus"], 2, "--bogus"),
]

# ---- numeric environment variables: each bad value, on a command that reads it
_ENV_COMMANDS = {
    "TODOCTL_CONNECT_TIMEOUT": ("migrate", "status"),
    "TODOCTL_LOCK_WAIT": ("migrate", "up"),
    "TODOCTL_LOCK_TIMEOUT": ("migrate", "down"),
    "TODOCTL_STATEMENT_TIMEOUT": ("migrate", "down"),
}
for _name, _command in _ENV_COMMANDS.items():
    for _value in ("abc", "-1", "inf", "1e999", ""):
        CASES.append(case(f"{_name}={_value!r}", _command, 2, _name, env={_name: _value}))
CASES += [
    case("TODOCTL_CONNECT_TIMEOUT=0", ["migrate", "status"], 2, "TODOCTL_CONNECT_TIMEOUT", env={"TODOCTL_CONNECT_TIMEOUT": "0"}),
    case("TODOCTL_CONNECT_TIMEOUT=2.5", ["migrate", "status"], 2, "TODOCTL_CONNECT_TIMEOUT", env={"TODOCTL_CONNECT_TIMEOUT": "2.5"}),
    case("TODOCTL_LOCK_WAIT=nan", ["migrate", "up"], 2, "TODOCTL_LOCK_WAIT", env={"TODOCTL_LOCK_WAIT": "nan"}),
    case("TODOCTL_CONNECT_TIMEOUT on seed", ["seed", "--users", "3"], 2, "TODOCTL_CONNECT_TIMEOUT", env={"TODOCTL_CONNECT_TIMEOUT": "abc"}),
    case("TODOCTL_CONNECT_TIMEOUT on explain", ["explain", "task-list"], 2, "TODOCTL_CONNECT_TIMEOUT", env={"TODOCTL_CONNECT_TIMEOUT": "abc"}),
    case("TODOCTL_STATEMENT_TIMEOUT on migrate sql", ["migrate", "sql", "0001:0002"], 2, "TODOCTL_STATEMENT_TIMEOUT", env={"TODOCTL_STATEMENT_TIMEOUT": "x"}),
    case("TODOCTL_HEALTH_PINGS=abc", ["health"], 2, "TODOCTL_HEALTH_PINGS", env={"TODOCTL_HEALTH_PINGS": "abc"}),
    case("TODOCTL_HEALTH_PINGS=1e999", ["health"], 2, "TODOCTL_HEALTH_PINGS", env={"TODOCTL_HEALTH_PINGS": "1e999"}, marks=HEALTH_TRUST),
    case("TODOCTL_HEALTH_LONG_QUERY_WARN_S=abc", ["health"], 2, "LONG_QUERY_WARN_S", env={"TODOCTL_HEALTH_LONG_QUERY_WARN_S": "abc"}),
]
for _name in ("DB_POOL_MIN", "DB_POOL_MAX", "DB_POOL_TIMEOUT", "DB_POOL_RECYCLE"):
    CASES.append(case(f"{_name}=abc", ["health"], 2, _name, env={_name: "abc"}))

# ---- URLs (nothing to connect to: exit 3)
_PASSWORD_SPECIALS = SENTINEL + "/#?@%"
CASES += [
    case("url empty", ["migrate", "status"], 3, "empty", url="", marks=DB_TRUST),
    case("url whitespace", ["migrate", "status"], 3, "empty", url="   "),
    case("DATABASE_URL empty", ["migrate", "status"], 3, "DATABASE_URL", url=None, env={"DATABASE_URL": ""}, marks=DB_TRUST),
    case("url no host", ["migrate", "status"], 3, "no server is listening", url="postgresql://", marks=DB_TRUST),
    case("url bad port", ["migrate", "status"], 3, "port", url=f"postgresql://me:{SENTINEL}@127.0.0.1:99999/app", marks=DB_TRUST),
    case("url port not a number", ["migrate", "status"], 3, "malformed", url=f"postgresql://me:{SENTINEL}@db.example.com:port/app"),
    case("url unknown scheme", ["migrate", "status"], 3, "scheme", url=f"mysql://me:{SENTINEL}@127.0.0.1/app"),
    case("url without scheme", ["migrate", "status"], 3, "malformed", url=f"me:{SENTINEL}@localhost/app"),
    case("url refused", ["health"], 3, "refused", url=f"postgresql://me:{SENTINEL}@127.0.0.1:1/app"),
    case("url password with specials, raw", ["migrate", "status"], 3, "URL", url=f"postgresql://me:{_PASSWORD_SPECIALS}@127.0.0.1:1/app"),
    case("url password with specials, quoted", ["migrate", "status"], 3, "refused", url=f"postgresql://me:{quote(_PASSWORD_SPECIALS, safe='')}@127.0.0.1:1/app"),
    case("DATABASE_URL refused", ["schema", "show"], 3, "refused", url=None, env={"DATABASE_URL": f"postgresql://me:{SENTINEL}@127.0.0.1:1/app"}),
]

# Cases that also run with --json (the command takes it): the error is one JSON document.
JSON_CASES = {
    "explain runs 10**9", "param batch=huge", "param batch=-1", "timeout banana", "factor 0",
    "up statement-timeout parsecs", "down statement-timeout banana", "seed users 10**12", "seed rows nan",
    "seed filled tables", "profile rows inf", "show unknown table", "lint skip unknown",
    "TODOCTL_LOCK_WAIT='abc'", "TODOCTL_CONNECT_TIMEOUT='1e999'", "url unknown scheme",
}

PROFILES = {
    "count_inf.toml": "[tables.users]\nrows = inf\n",
    "count_neg.toml": "[tables.users]\nrows = -1\n",
    "per_user_inf.toml": "[tables.tasks]\nper_parent = { mean = inf }\n",
    "neg_weight.toml": "[tables.tasks.columns]\nstatus = { weights = { pending = -1, completed = 2 } }\n",
    "huge_weights.toml": "[tables.task_tags]\nper_parent = { weights = [1e308, 1e308] }\n",
    "unknown_key.toml": "[tables.users]\ncolour = 'blue'\n",
    "old_layout.toml": "[users]\ncount = 3\n",
    "unknown_column.toml": "[tables.users.columns.emial]\nnull = 0.1\n",
    "malformed.toml": "[tables.users\nrows = 3\n",
}
REFERENCE = "reference_time = 2026-06-01T09:00:00Z\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad-input")
    profiles = root / "profiles"
    profiles.mkdir()
    for name, body in PROFILES.items():
        (profiles / name).write_text(REFERENCE + body)
    (profiles / "no_reference.toml").write_text("[users]\ncount = 3\n")
    (profiles / "latin1.toml").write_bytes(REFERENCE.encode() + "description = 'caf\xe9'\n".encode("latin-1"))
    (root / "garbage.json").write_text("{not json")
    return {"profiles": profiles, "tmp": root}


@pytest.fixture(scope="module")
def guarded(pg, migrated_template):
    """A migrated database with a few seeded rows, its URL carrying the sentinel password, and
    its fingerprint before any case ran."""
    from todoctl.core import seed

    name = pg.create_database(template=migrated_template)
    url = pg.url_for(name)
    seed.run(url, profile="small", users=3)
    parts = urlsplit(url.url)
    if parts.password is None:  # a trusting local server: the sentinel is carried, never checked
        netloc = parts.netloc.replace("@", f":{SENTINEL}@", 1) if "@" in parts.netloc else f"postgres:{SENTINEL}@{parts.netloc}"
        with_sentinel = urlunsplit(parts._replace(netloc=netloc))
    else:
        with_sentinel = url.url
    yield with_sentinel, url, fingerprint(url)
    pg.drop_database(name)


def fingerprint(url) -> dict[str, str]:
    """Every public table's name and an md5 of its rows (app tables, alembic_version, todoctl_*)."""
    import psycopg

    with psycopg.connect(url.libpq) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        return {
            t: conn.execute(f'SELECT md5(coalesce(string_agg(x::text, \'|\' ORDER BY x::text), \'\')) FROM "{t}" x').fetchone()[0]
            for t in tables
        }


def _argv(c: Case, url: str, files: dict[str, Path], *, as_json: bool = False) -> list[str]:
    args = [a.replace("{profiles}", str(files["profiles"])).replace("{tmp}", str(files["tmp"])) for a in c.args]
    prefix = [] if c.url is None else ["-d", url if c.url == "db" else c.url]
    return [*prefix, *args, *(["--json"] if as_json else [])]


def _env(c: Case) -> dict[str, str | None]:
    # Tests never inherit a developer's DATABASE_URL (conftest); a case may set one.
    return {"DATABASE_URL": None, "DATABASE_URL_UNPOOLED": None, **c.env}


def assert_one_error(stdout: str, stderr: str, code: int, exit_code: int, expect: str, secret: str = SENTINEL) -> None:
    output = stdout + stderr
    assert exit_code == code, output
    assert secret not in output
    assert "Traceback" not in output
    # A changing command names its target first (README, "Configuration"); the error follows it.
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("target: ")]
    assert [line for line in lines if line.startswith("Error: ")] == lines[:1], output
    assert len(lines) >= 2 and lines[1].startswith("Hint: "), output
    assert expect in "\n".join(lines[:2]), output


def assert_json_error(result, c: Case) -> None:
    assert result.exit_code == c.code, result.output
    assert SENTINEL not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    document = json.loads(result.stdout)  # exactly one document
    assert document["ok"] is False
    assert document["error"]["exit_code"] == c.code
    assert document["error"]["hint"]
    assert c.expect in document["error"]["message"] + document["error"]["hint"]


def _params(cases):
    return [pytest.param(c, id=c.id, marks=c.marks) for c in cases]


def test_the_table_has_at_least_80_cases():
    assert len(CASES) >= 80, len(CASES)


@pytest.mark.parametrize("c", _params(CASES))
def test_bad_input(c: Case, guarded, files):
    url, plain, before = guarded
    result = runner.invoke(app, _argv(c, url, files), env=_env(c))
    if "--json" in c.args:
        assert_json_error(result, c)
    else:
        assert_one_error(result.stdout, result.stderr, c.code, result.exit_code, c.expect)
        assert result.stdout == ""  # errors go to stderr; nothing half-printed before them
    if c.url == "db":
        assert fingerprint(plain) == before


@pytest.mark.parametrize("c", _params([c for c in CASES if c.id in JSON_CASES]))
def test_bad_input_as_json(c: Case, guarded, files):
    url, plain, before = guarded
    result = runner.invoke(app, _argv(c, url, files, as_json=True), env=_env(c))
    assert_json_error(result, c)
    if c.url == "db":
        assert fingerprint(plain) == before


def test_json_cases_are_in_the_table():
    assert JSON_CASES <= {c.id for c in CASES}


# ---------------------------------------------------------------- the real program, as a subprocess


def _run(args: list[str], *, cwd: Path = REPO, env: dict | None = None, **extra: str) -> subprocess.CompletedProcess:
    full_env = todoctl_env(**extra)
    full_env.update(env or {})
    return subprocess.run(todoctl_command(*args), cwd=cwd, env=full_env, capture_output=True, timeout=120)


DOTENV_CASES = [
    pytest.param(b"DATABASE_URL=\n", "DATABASE_URL", id=".env empty value", marks=DB_TRUST),
    pytest.param(b'DATABASE_URL="postgresql://me:' + SENTINEL.encode() + b"@127.0.0.1:1/app\n", "DATABASE_URL", id=".env unterminated quote", marks=DB_TRUST),
    pytest.param(b"DATABASE_URL=postgresql://me:" + SENTINEL.encode() + b"@h\xff\xfe:1/app\n", "DATABASE_URL", id=".env not UTF-8", marks=DB_TRUST),
    pytest.param(b"DATABASE_URL=mysql://me:" + SENTINEL.encode() + b"@127.0.0.1/app\n", "scheme", id=".env unknown scheme"),
]


@pytest.mark.parametrize("content,expect", DOTENV_CASES)
def test_bad_dotenv(tmp_path, content, expect):
    (tmp_path / ".env").write_bytes(content)
    result = _run(["migrate", "status"], cwd=tmp_path)
    assert_one_error(result.stdout.decode(), result.stderr.decode(errors="replace"), 3, result.returncode, expect)


def test_non_utf8_database_url_in_the_environment(tmp_path):
    env = {**{k: v for k, v in os.environb.items() if k not in (b"DATABASE_URL", b"DATABASE_URL_UNPOOLED")}}
    env[b"DATABASE_URL"] = b"postgresql://me:" + SENTINEL.encode() + b"@h\xff:1/app"
    result = subprocess.run(todoctl_command("migrate", "status"), cwd=tmp_path, env=env, capture_output=True, timeout=120)
    assert_one_error(result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace"), 3, result.returncode, "DATABASE_URL")


def test_bad_environment_number_in_the_real_program(guarded):
    url, plain, before = guarded
    result = _run(["-d", url, "migrate", "up"], TODOCTL_LOCK_WAIT="abc")
    assert_one_error(result.stdout.decode(), result.stderr.decode(), 2, result.returncode, "TODOCTL_LOCK_WAIT='abc' is not a number")
    assert fingerprint(plain) == before


# ---------------------------------------------------------------- a reader that went away


def _closed_reader(*args: str) -> tuple[int, str]:
    """Run todoctl with stdout a pipe whose reading end is closed before anything is written
    (what `| head -1` does, without the race): every write hits a closed pipe."""
    proc = start_todoctl(*args)
    proc.stdout.close()
    stderr = proc.stderr.read()
    return proc.wait(timeout=120), stderr


@pytest.mark.parametrize(
    "args",
    [("explain", "list"), ("explain", "list", "--json"), ("migrate", "history")],
    ids=lambda a: " ".join(a),
)
def test_closed_pipe_without_a_database_ends_quietly_with_exit_0(args):
    code, stderr = _closed_reader(*args)
    assert stderr == ""
    assert code == 0


def test_closed_pipe_keeps_the_commands_exit_code(guarded, empty_db):
    url, plain, before = guarded
    for args, code in [
        (("-d", url, "explain", "check", "--runs", "1"), 0),
        (("-d", url, "explain", "task-list"), 0),
        (("-d", url, "health", "-c", "migrations", "-c", "version"), 0),
        (("-d", empty_db.url, "migrate", "status"), 1),  # a failing gate piped into head still fails
    ]:
        got, stderr = _closed_reader(*args)
        assert SENTINEL not in stderr
        assert (got, stderr) == (code, ""), args
    assert fingerprint(plain) == before


def test_a_migration_runs_to_its_end_when_its_reader_goes_away(pg, empty_db):
    import psycopg

    from todoctl.core.safety.revision_gate import revision_state

    code, stderr = _closed_reader("-d", empty_db.url, "migrate", "up")
    # stderr holds the target line only (it goes to stderr, which stays open): no error at all.
    assert code == 0 and [line for line in stderr.splitlines() if not line.startswith("target: ")] == []
    with psycopg.connect(empty_db.libpq) as conn:
        assert revision_state(conn, empty_db.display).at_head  # it migrated, all the way


def test_real_pipeline_into_head(guarded):
    url, _, _ = guarded
    script = f'{" ".join(todoctl_command())} -d "$URL" explain check --runs 1 | head -1; echo "exit=${{PIPESTATUS[0]}}" >&2'
    result = subprocess.run(
        ["bash", "-c", script], cwd=REPO, env={**todoctl_env(), "URL": url}, capture_output=True, text=True, timeout=120
    )
    assert result.stderr.strip() == "exit=0"
    assert result.stdout.startswith("explain check")
