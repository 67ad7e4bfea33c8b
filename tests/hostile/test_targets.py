"""Hostile suite, class "targets": todoctl works on the database the precedence table names, and no
other (README, "Connection"; docs/connection.md).

The README's rule, which every case here checks:

  1. ``--database-url`` on the command line, for every command;
  2. otherwise the first layer — the environment, then the first ``.env`` upwards — that sets
     DATABASE_URL or DATABASE_URL_UNPOOLED wins, whole: schema changes take DATABASE_URL_UNPOOLED,
     else DATABASE_URL; every other command DATABASE_URL, else DATABASE_URL_UNPOOLED;
  3. otherwise the first layer that sets PGSERVICE, PGHOST, PGHOSTADDR, PGPORT or PGDATABASE;
  4. otherwise the embedded server.

A configured variable that cannot be used is exit 3, never a step down the table.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from tests.hostile.conftest import document, embedded_started
from todoctl.db.target import choose
from todoctl.errors import TodoctlError

# --------------------------------------------------------------------------- the table, walked

POOLED, DIRECT = "DATABASE_URL", "DATABASE_URL_UNPOOLED"
LAYERS = {"env": "", "dotenv": " (.env)"}
# Each layer's value of each variable names a host of its own, so the chosen host says who won.
PAIR_SETS = [(), (POOLED,), (DIRECT,), (POOLED, DIRECT)]
LIBPQ_CHOICES = [None, "PGHOST", "PGSERVICE"]
LAYER_SETS = [pair + ((lib,) if lib else ()) for pair in PAIR_SETS for lib in LIBPQ_CHOICES]


def host_of(layer: str, variable: str) -> str:
    return f"{layer}-{variable.lower().replace('_', '-')}.example"


def value_of(layer: str, variable: str) -> str:
    if variable == "PGHOST":
        return host_of(layer, variable)
    if variable == "PGSERVICE":
        return f"{layer}svc"  # the service file gives it host_of(layer, "PGSERVICE")
    return f"postgresql://app@{host_of(layer, variable)}/app"


def readme_rule(option: bool, env: tuple, dotenv: tuple, direct: bool) -> tuple[str | None, str]:
    """The README's table, restated independently of todoctl/db/target.py: (host, source)."""
    if option:
        return "option.example", "--database-url"
    order = (DIRECT, POOLED) if direct else (POOLED, DIRECT)
    for layer, present in (("env", env), ("dotenv", dotenv)):
        for variable in order:
            if variable in present:
                return host_of(layer, variable), variable + LAYERS[layer]
    for layer, present in (("env", env), ("dotenv", dotenv)):
        for variable in ("PGSERVICE", "PGHOST"):
            if variable in present:
                return host_of(layer, variable), variable + LAYERS[layer]
    return None, "embedded"


def _label(names: tuple) -> str:
    short = {POOLED: "URL", DIRECT: "UNPOOLED", "PGHOST": "PGHOST", "PGSERVICE": "PGSERVICE"}
    return "+".join(short[n] for n in names) or "-"


COMBINATIONS = list(itertools.product([False, True], LAYER_SETS, LAYER_SETS))


@pytest.fixture
def service_file(project, monkeypatch) -> Path:
    """A service file with one service per layer; PGSERVICEFILE alone configures nothing."""
    path = project.parent / "pg_service.conf"
    path.write_text(
        "".join(f"[{layer}svc]\nhost={host_of(layer, 'PGSERVICE')}\ndbname=app\n" for layer in LAYERS)
    )
    monkeypatch.setenv("PGSERVICEFILE", str(path))
    return path


@pytest.mark.parametrize(
    "option, env, dotenv",
    COMBINATIONS,
    ids=[f"option={'yes' if o else 'no'} env={_label(e)} .env={_label(d)}" for o, e, d in COMBINATIONS],
)
def test_the_precedence_table_for_every_combination(project, service_file, monkeypatch, option, env, dotenv):
    """README: the command line beats the environment beats .env, the first configured layer wins
    whole, and within it schema changes take the direct URL and the rest the pooled one."""
    for variable in env:
        monkeypatch.setenv(variable, value_of("env", variable))
    if dotenv:
        (project / ".env").write_text("".join(f"{v}={value_of('dotenv', v)}\n" for v in dotenv))
    explicit = "postgresql://app@option.example/app" if option else None
    for direct in (False, True):
        chosen = choose(explicit, direct=direct)
        got = (chosen.host, chosen.source) if chosen else (None, "embedded")
        assert got == readme_rule(option, env, dotenv, direct), f"direct={direct}"
        if chosen is not None and chosen.source.endswith("(.env)"):
            assert chosen.origin.startswith(f"{project / '.env'} line ")


# --------------------------------------------------------------------------- which variables configure


@pytest.mark.parametrize(
    "variable, value, configured",
    [
        ("PGHOST", "db.example", True),
        ("PGHOSTADDR", "192.0.2.1", True),
        ("PGPORT", "5433", True),
        ("PGDATABASE", "app", True),
        ("PGSERVICE", "nosuchservice", True),
        ("PGUSER", "app", False),
        ("PGPASSWORD", "Xx9-not-a-target", False),
        ("PGSSLMODE", "require", False),
        ("PGOPTIONS", "-c statement_timeout=5s", False),
        ("PGAPPNAME", "psql", False),
        ("PGCONNECT_TIMEOUT", "5", False),
        ("PGSERVICEFILE", "/nonexistent/pg_service.conf", False),
    ],
)
def test_libpq_variables_that_name_a_server_or_database_configure_one(project, monkeypatch, variable, value, configured):
    """README: PGHOST, PGHOSTADDR, PGPORT, PGDATABASE and PGSERVICE say where to connect and count as a
    configured database; user, password, TLS and timeout variables say how, and do not."""
    monkeypatch.setenv(variable, value)
    chosen = choose(None)
    assert (chosen is not None) == configured
    if configured:
        assert chosen.source == variable


@pytest.mark.parametrize("layer", ["environment", ".env"])
@pytest.mark.parametrize("variable", ["PGHOST", "PGPORT", "PGDATABASE", "PGSERVICE", "DATABASE_URL", "DATABASE_URL_UNPOOLED"])
def test_a_configured_variable_that_is_empty_is_exit_3_never_the_embedded_server(project, cli, monkeypatch, layer, variable):
    """README: a variable that is set but unusable (here: empty) is exit 3, naming it."""
    if layer == "environment":
        monkeypatch.setenv(variable, "")
    else:
        (project / ".env").write_text(f"OTHER=1\n{variable}=\n")
    code, stdout, stderr = cli("migrate", "status")
    assert code == 3, stderr
    assert stderr.startswith(f"Error: {variable} in ") and "empty" in stderr.splitlines()[0]
    assert not embedded_started(project)


# --------------------------------------------------------------------------- .env files, as attackers write them


def test_a_dotenv_that_is_a_directory_is_exit_3_not_the_parents(project, cli):
    """README: a .env that is a directory is exit 3 naming it, not skipped for a parent's .env."""
    (project.parent / ".env").write_text("DATABASE_URL=postgresql://app@parent.example/app\n")
    (project / ".env").mkdir()
    code, _, stderr = cli("migrate", "status")
    assert code == 3
    assert f"Error: {project / '.env'} is a directory" in stderr
    assert "parent.example" not in stderr and not embedded_started(project)


def test_a_dotenv_that_is_a_broken_symlink_is_exit_3_not_the_parents(project, cli):
    (project.parent / ".env").write_text("DATABASE_URL=postgresql://app@parent.example/app\n")
    (project / ".env").symlink_to(project / "gone.env")
    code, _, stderr = cli("schema", "show")
    assert code == 3
    assert f"Error: {project / '.env'} is a broken symbolic link" in stderr


def test_a_dotenv_that_is_a_fifo_is_exit_3_without_waiting_for_a_writer(project, cli):
    os.mkfifo(project / ".env")
    code, _, stderr = cli("migrate", "status")
    assert code == 3 and "not a regular file" in stderr


def test_a_dotenv_symlink_to_a_file_is_read(project):
    target = project.parent / "real.env"
    target.write_text("DATABASE_URL=postgresql://app@linked.example/app\n")
    (project / ".env").symlink_to(target)
    assert choose(None).host == "linked.example"


def test_a_parent_directorys_dotenv_is_used_and_named(project, monkeypatch):
    """README: the first .env upwards from the working directory; the origin names its path and line."""
    (project / ".env").write_text("# nothing\n\nDATABASE_URL=postgresql://app@parent.example/app\n")
    sub = project / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    chosen = choose(None)
    assert (chosen.host, chosen.source, chosen.origin) == ("parent.example", "DATABASE_URL (.env)", f"{project / '.env'} line 3")


def test_a_nearer_dotenv_without_database_settings_hides_the_parents(project, monkeypatch):
    """The first .env found is the one (python-dotenv's rule): a parent's settings are not mixed in."""
    (project / ".env").write_text("DATABASE_URL=postgresql://app@parent.example/app\n")
    sub = project / "sub"
    sub.mkdir()
    (sub / ".env").write_text("OTHER=1\n")
    monkeypatch.chdir(sub)
    assert choose(None) is None


@pytest.mark.parametrize(
    "content, host",
    [
        ("export DATABASE_URL=postgresql://app@exported.example/app\n", "exported.example"),
        ("DATABASE_URL='postgresql://app@single.example/app'\n", "single.example"),
        ('DATABASE_URL="postgresql://app@double.example/app"\n', "double.example"),
        ("DATABASE_URL = postgresql://app@spaced.example/app\n", "spaced.example"),
        ("DATABASE_URL=postgresql://app@first.example/app\nDATABASE_URL=postgresql://app@last.example/app\n", "last.example"),
        ("DATABASE_URL=postgresql://app@${DB_HOST}/app\n", "interpolated.example"),
        ("DB_HOST2=fromfile.example\nDATABASE_URL=postgresql://app@${DB_HOST2}/app\n", "fromfile.example"),
        ("DATABASE_URL=postgresql://app@comment.example/app # a comment\n", "comment.example"),
        ("\ufeffDATABASE_URL=postgresql://app@bom.example/app\n", "bom.example"),
        ("DATABASE_URL=postgresql://app@crlf.example/app\r\n", "crlf.example"),
    ],
    ids=["export", "single-quotes", "double-quotes", "spaces", "duplicates-last-wins", "interpolation-env",
         "interpolation-file", "comment", "byte-order-mark", "crlf"],
)
def test_dotenv_syntax_is_read_as_python_dotenv_reads_it_for_the_app(project, monkeypatch, content, host):
    """README: .env is read by python-dotenv, as the app reads it (quotes, export, ${VAR}, last wins)."""
    monkeypatch.setenv("DB_HOST", "interpolated.example")
    (project / ".env").write_text(content, encoding="utf-8")
    from dotenv import dotenv_values

    expected = dotenv_values(project / ".env").get("DATABASE_URL")
    chosen = choose(None)
    if expected is None:  # python-dotenv itself does not see the variable: neither does todoctl
        assert chosen is None
        return
    assert chosen.host == host


def test_duplicates_name_the_line_that_wins(project):
    (project / ".env").write_text("DATABASE_URL=postgresql://app@a.example/app\nX=1\nDATABASE_URL=postgresql://app@b.example/app\n")
    assert choose(None).origin == f"{project / '.env'} line 3"


@pytest.mark.parametrize(
    "content, expect",
    [
        (b"DATABASE_URL=postgresql://app:caf\xe9@db.example/app\n", "DATABASE_URL in"),
        (b"OTHER=caf\xe9\nDATABASE_URL=postgresql://app@db.example/app\n", "line 1 cannot be read"),
        (b'DATABASE_URL="postgresql://app@db.example/app\n', "cannot be parsed by python-dotenv"),
        (b"PGHOST db.example\n", "PGHOST in"),
        (b"DATABASE_URL=''\n", "is empty"),
        (b"DATABASE_URL=${NOT_SET_ANYWHERE}\n", "is empty"),
        (b"DATABASE_URL\n", "is empty"),
        (b"DATABASE_URL=not a url\n", "malformed database URL"),
        (b"DATABASE_URL=mysql://app@db.example/app\n", "unsupported database URL scheme"),
    ],
    ids=["not-utf8-in-the-url", "not-utf8-elsewhere", "unterminated-quote", "libpq-variable-unparseable",
         "empty-quotes", "interpolates-to-empty", "no-value", "not-a-url", "another-database-kind"],
)
def test_an_unusable_dotenv_is_exit_3_naming_it(project, cli, content, expect):
    """README: a configured .env setting that cannot be used is exit 3 with the file (and line)."""
    (project / ".env").write_bytes(content)
    code, _, stderr = cli("migrate", "status")
    assert code == 3, stderr
    assert expect in stderr.splitlines()[0]
    assert not embedded_started(project)


def test_the_environment_wins_over_a_broken_dotenv(project, monkeypatch):
    """README: .env is read only when the environment sets no URL."""
    (project / ".env").mkdir()
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@env.example/app")
    assert choose(None).host == "env.example"


def test_libpq_variables_do_not_skip_a_broken_dotenv(project, monkeypatch):
    """README: a .env that could hold the app's URL is read before libpq's variables; one that
    cannot be read is exit 3, not passed over for PGHOST."""
    (project / ".env").mkdir()
    monkeypatch.setenv("PGHOST", "env.example")
    with pytest.raises(TodoctlError) as caught:
        choose(None)
    assert caught.value.exit_code == 3 and ".env" in caught.value.message


# --------------------------------------------------------------------------- poolers, however they are named


POOLER = "ep-cool-123-pooler.eu-central-1.aws.neon.tech"
DIRECT_HOST = "ep-cool-123.eu-central-1.aws.neon.tech"


@pytest.mark.parametrize(
    "setup",
    [
        {"DATABASE_URL": f"postgresql://app@{POOLER}/app"},
        {"DATABASE_URL": f"postgresql://app@{POOLER.upper()}/app"},
        {"DATABASE_URL": f"postgresql://app@{DIRECT_HOST}/app?host={POOLER}"},
        {"DATABASE_URL": f"postgresql://app@{DIRECT_HOST},{POOLER}/app"},
        {"DATABASE_URL": "postgresql:///app", "PGHOST": POOLER},
        {"PGHOST": POOLER, "PGDATABASE": "app"},
        {"PGHOST": POOLER, "PGHOSTADDR": "192.0.2.1"},
        {"PGHOSTADDR": POOLER},
        {"PGSERVICE": "pooled"},
        {"DATABASE_URL": "postgresql:///app?service=pooled"},
        {".env": f"PGHOST={POOLER}\n"},
        {".env": "PGSERVICE=pooled\n"},
        {".env": f"DATABASE_URL=postgresql:///app\nPGHOST={POOLER}\n"},
        {"DATABASE_URL_UNPOOLED": f"postgresql://app@{POOLER}/app"},
    ],
    ids=["url-host", "url-host-upper-case", "query-host", "host-list", "PGHOST-fills-the-url", "PGHOST", "PGHOST-with-address",
         "PGHOSTADDR", "PGSERVICE", "service-in-url", "dotenv-PGHOST", "dotenv-PGSERVICE", "dotenv-PGHOST-fills-the-url",
         "unpooled-that-is-a-pooler"],
)
def test_migrate_refuses_a_pooler_however_it_is_named(project, cli, monkeypatch, setup):
    """README: schema changes refuse a pooled connection (exit 4) before connecting, whether the
    '-pooler' host is in the URL, its query, PGHOST, PGHOSTADDR or a service file."""
    services = project.parent / "pg_service.conf"
    services.write_text(f"[pooled]\nhost={POOLER}\ndbname=app\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    for name, value in setup.items():
        if name == ".env":
            (project / ".env").write_text(value)
        else:
            monkeypatch.setenv(name, value)
    code, _, stderr = cli("migrate", "up")
    assert code == 4, stderr  # a connection attempt to these hosts would be exit 3
    assert "refusing to change the schema through a pooled connection" in stderr


def test_a_pooled_url_with_a_direct_one_beside_it_migrates_through_the_direct_one(project, monkeypatch):
    monkeypatch.setenv(POOLED, f"postgresql://app@{POOLER}/app")
    monkeypatch.setenv(DIRECT, f"postgresql://app@{DIRECT_HOST}/app")
    from todoctl.db.target import configured_url

    assert configured_url(None, direct=True).host == DIRECT_HOST
    assert configured_url(None).host == POOLER


@pytest.mark.parametrize(
    "url, local",
    [
        ("postgresql:///app?host=/var/run/postgresql", True),
        ("postgresql://%2Fvar%2Frun%2Fpostgresql/app", True),
        ("postgresql://app@localhost/app", True),
        ("postgresql://app@[::1]:5433/app", True),
        ("postgresql://app@/app?host=@abstract", True),
        ("postgresql://app@localhost,db.example/app", False),
        ("postgresql://app@db.example/app?host=/var/run/postgresql", True),
        ("postgresql://app@/app?hostaddr=192.0.2.1", False),
    ],
)
def test_unix_sockets_and_query_hosts_are_read_as_libpq_reads_them(project, url, local):
    """The host libpq connects to decides local/remote (TLS and retries), not the URL's authority."""
    from todoctl.db.url import normalise

    assert normalise(url, source="test").is_local == local


# --------------------------------------------------------------------------- on a real server: which database changed


def _server(pg) -> dict:
    """The test server's host, port and user, as libpq reads its admin URL."""
    params = pg.admin.params
    return {"PGHOST": params.get("host", ""), "PGPORT": params.get("port", ""), "PGUSER": params.get("user", "")}


def _url(pg, name: str) -> str:
    return pg.url_for(name).libpq


def _marked(pg) -> str:
    """A database holding one row the test must find again: nothing may change it."""
    name = pg.create_database()
    pg.execute("CREATE TABLE keep_me (x int); INSERT INTO keep_me VALUES (1)", database=name)
    return name


def _untouched(pg, name: str) -> bool:
    rows = pg.execute("SELECT count(*) FROM keep_me", database=name)
    tables = {r[0] for r in pg.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database=name)}
    return rows == [(1,)] and tables == {"keep_me"}


def _migrated(pg, name: str) -> bool:
    return bool(pg.execute("SELECT 1 FROM pg_tables WHERE tablename = 'alembic_version'", database=name))


@pytest.fixture
def databases(pg):
    made: list[str] = []

    def make(marked: bool = True) -> str:
        name = _marked(pg) if marked else pg.create_database()
        made.append(name)
        return name

    yield make
    for name in made:
        pg.drop_database(name)


def test_issue_26_dotenv_unpooled_never_mixes_with_the_environments_url(pg, project, cli, databases, monkeypatch):
    """The verified bug: .env's DATABASE_URL_UNPOOLED=<other> and the environment's DATABASE_URL=<app>
    made `migrate reset --yes` empty <other>. The environment's layer wins whole."""
    app, other = databases(marked=False), databases()
    monkeypatch.setenv(POOLED, _url(pg, app))
    (project / ".env").write_text(f"{DIRECT}={_url(pg, other)}\n")
    code, _, stderr = cli("migrate", "reset", "--yes")
    assert code == 0, stderr
    first = stderr.splitlines()[0]
    assert f"/{app}?" in first and first.endswith("(from DATABASE_URL)")
    assert _migrated(pg, app) and _untouched(pg, other)


@pytest.mark.parametrize("where", ["environment", ".env"])
def test_only_the_direct_url_serves_every_command(pg, project, cli, databases, monkeypatch, where):
    """The verified bug: with only DATABASE_URL_UNPOOLED set, reading commands used the embedded
    server and `migrate check` passed on it. README: one of the pair alone serves every command."""
    name = databases(marked=False)
    if where == "environment":
        monkeypatch.setenv(DIRECT, _url(pg, name))
        source = DIRECT
    else:
        (project / ".env").write_text(f"{DIRECT}={_url(pg, name)}\n")
        source = f"{DIRECT} (.env)"
    code, stdout, _ = cli("migrate", "check", "--json")
    assert code == 1  # pending: the database is at base, it is not the embedded server at head
    assert document(stdout)["target_database"]["source"] == source
    code, stdout, _ = cli("schema", "show", "--json")
    assert code == 0 and document(stdout)["target_database"] == {**document(stdout)["target_database"], "name": name, "source": source}
    assert not embedded_started(project)


def test_a_pair_in_one_layer_splits_schema_changes_from_the_rest(pg, project, cli, databases, monkeypatch):
    """README: within the winning layer, migrate takes DATABASE_URL_UNPOOLED, the rest DATABASE_URL."""
    pooled, direct = databases(), databases(marked=False)
    monkeypatch.setenv(POOLED, _url(pg, pooled))
    monkeypatch.setenv(DIRECT, _url(pg, direct))
    code, _, stderr = cli("migrate", "up")
    assert code == 0, stderr
    assert _migrated(pg, direct) and _untouched(pg, pooled)
    code, stdout, _ = cli("schema", "show", "--json")
    assert document(stdout)["target_database"]["name"] == pooled


def test_a_dotenv_url_beats_the_environments_libpq_variables(pg, project, cli, databases, monkeypatch):
    """README: the app's URLs come before libpq's variables wherever they are set: a PGHOST exported
    in the shell for psql does not send a migration where the app (python-dotenv + the URL) never goes."""
    env_db, dotenv_db = databases(), databases(marked=False)
    for name, value in _server(pg).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PGDATABASE", env_db)
    (project / ".env").write_text(f"{POOLED}={_url(pg, dotenv_db)}\n")
    code, _, stderr = cli("migrate", "up")
    assert code == 0, stderr
    assert "(from DATABASE_URL (.env)" in stderr.splitlines()[0]
    assert _migrated(pg, dotenv_db) and _untouched(pg, env_db)


def test_the_command_line_beats_every_layer(pg, project, cli, databases, monkeypatch):
    option_db, env_db, dotenv_db = databases(marked=False), databases(), databases()
    monkeypatch.setenv(POOLED, _url(pg, env_db))
    monkeypatch.setenv(DIRECT, _url(pg, env_db))
    (project / ".env").write_text(f"{DIRECT}={_url(pg, dotenv_db)}\n")
    code, _, stderr = cli("-d", _url(pg, option_db), "migrate", "up")
    assert code == 0, stderr
    assert _migrated(pg, option_db) and _untouched(pg, env_db) and _untouched(pg, dotenv_db)


def test_a_service_file_names_the_database(pg, project, cli, databases, monkeypatch):
    """README: PGSERVICE (with the service file libpq reads) is a configured database."""
    name, other = databases(marked=False), databases()
    server = _server(pg)
    services = project.parent / "services.conf"
    services.write_text(f"[app]\nhost={server['PGHOST']}\nport={server['PGPORT']}\nuser={server['PGUSER']}\ndbname={name}\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.setenv("PGSERVICE", "app")
    code, stdout, stderr = cli("migrate", "up", "--json")
    assert code == 0, stderr
    target = document(stdout)["target_database"]
    assert (target["name"], target["source"]) == (name, "PGSERVICE")
    assert _migrated(pg, name) and _untouched(pg, other)


def test_dotenv_libpq_variables_name_the_database(pg, project, cli, databases):
    name = databases(marked=False)
    lines = [f"{k}={v}" for k, v in _server(pg).items()] + [f"PGDATABASE={name}"]
    (project / ".env").write_text("\n".join(lines) + "\n")
    code, stdout, stderr = cli("migrate", "up", "--json")
    assert code == 0, stderr
    target = document(stdout)["target_database"]
    assert target["source"] == "PGHOST, PGPORT, PGDATABASE (.env)" and target["origin"] == f"{project / '.env'} line 1, 2, 4"
    assert _migrated(pg, name)


def test_a_socket_directory_written_as_an_encoded_host_connects(pg, project, cli, migrated_db):
    from urllib.parse import quote

    params = pg.admin.params
    url = f"postgresql://{params['user']}@{quote(params['host'], safe='')}:{params['port']}/{migrated_db.database}"
    code, stdout, stderr = cli("-d", url, "schema", "show", "--json")
    assert code == 0, stderr
    assert document(stdout)["target_database"]["name"] == migrated_db.database


def test_pgdatabase_alone_is_configured_so_a_missing_server_is_exit_3(project, cli, monkeypatch):
    """README: a configured database that cannot be used is exit 3; never the embedded server."""
    monkeypatch.setenv("PGDATABASE", "app")
    monkeypatch.setenv("PGHOST", str(project / "no-server-here"))
    code, _, stderr = cli("migrate", "status")
    assert code == 3, stderr
    assert not embedded_started(project)


def test_a_missing_service_is_exit_3_with_libpqs_reason(project, cli, monkeypatch):
    services = project.parent / "services.conf"
    services.write_text("[other]\nhost=localhost\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.setenv("PGSERVICE", "missing")
    code, _, stderr = cli("migrate", "status")
    assert code == 3, stderr
    assert 'definition of service "missing" not found' in stderr
    assert not embedded_started(project)


def test_a_servers_own_connection_error_is_shown_as_the_server_said_it(pg, project, cli, migrated_db):
    """Medium item of issue 26: an invalid ?options=-c... is the server's refusal, not a timeout."""
    url = migrated_db.libpq + "&options=-c%20statement_timeout%3Dsoon"
    code, _, stderr = cli("-d", url, "migrate", "status")
    assert code == 3
    first = stderr.splitlines()[0]
    assert 'invalid value for parameter "statement_timeout"' in first and "timed out" not in first


# --------------------------------------------------------------------------- the source, on every command

COMMANDS = [
    ("migrate", "status"),
    ("migrate", "check"),
    ("migrate", "current"),
    ("migrate", "up", "--dry-run"),
    ("migrate", "down", "--dry-run"),
    ("migrate", "verify"),
    ("migrate", "stamp", "head"),
    ("schema", "show"),
    ("schema", "diff"),
    ("schema", "diff", "--against", "history"),
    ("schema", "lint"),
    ("schema", "erd"),
    ("schema", "dump"),
    ("explain", "task-list"),
    ("explain", "sql", "SELECT 1"),
    ("explain", "check"),
    ("health",),
    ("seed", "--profile", "small"),
    ("db", "status"),
    ("db", "protection"),
    ("db", "protect", "--reason", "hostile"),
    ("db", "wait", "--timeout", "5"),
    ("review",),
    ("version",),
]


def _where(document_: dict) -> dict | None:
    if "target_database" in document_:
        return document_["target_database"]
    return None


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_every_command_names_the_source_and_origin_in_json(pg, project, cli, migrated_db, args):
    """README: every command names its database and where the URL came from (.env file and line),
    in `target_database` of its JSON document."""
    (project / ".env").write_text(f"# local settings\n{POOLED}={migrated_db.libpq}\n")
    code, stdout, stderr = cli(*args, "--json")
    assert code in (0, 1), stdout + stderr
    target = _where(document(stdout))
    assert target is not None, stdout
    assert target["source"] == f"{POOLED} (.env)"
    assert target["origin"] == f"{project / '.env'} line 2"
    assert target["name"] == migrated_db.database


CHANGING = [("migrate", "up"), ("migrate", "stamp", "head"), ("seed", "--profile", "small"), ("db", "protect", "--reason", "x")]


@pytest.mark.parametrize("args", CHANGING, ids=[" ".join(a) for a in CHANGING])
def test_a_changing_command_names_a_libpq_source_on_its_target_line(pg, project, cli, migrated_db, monkeypatch, args):
    for name, value in _server(pg).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PGDATABASE", migrated_db.database)
    code, _, stderr = cli(*args)
    assert code == 0, stderr
    first = stderr.splitlines()[0]
    assert first.startswith("target: postgresql://") and first.endswith("(from PGHOST, PGPORT, PGDATABASE)")
    assert f"/{migrated_db.database}" in first


# --------------------------------------------------------------------------- arguments that are not text


@pytest.mark.parametrize(
    "args",
    [
        ("-d", b"postgresql://app:caf\xe9@db.example/app", "migrate", "status"),
        ("explain", b"task-\xff"),
        ("schema", "show", b"\xfe\xfftasks"),
        ("seed", "--profile", b"sm\xe9all"),
        ("explain", "sql", b"SELECT '\xff'"),
        ("migrate", "up", b"\xc3"),
    ],
    ids=["url", "query-name", "table", "profile", "sql", "revision"],
)
def test_an_argument_that_is_not_utf8_is_a_usage_error(project, args):
    """Medium item of issue 26: invalid UTF-8 in any argument is exit 2 (it was 1, UnicodeEncodeError),
    one error, the value never echoed."""
    from tests.helpers import run_todoctl

    argv = [os.fsdecode(a) if isinstance(a, bytes) else a for a in args]
    result = run_todoctl(*argv, TODOCTL_HOME=str(project.parent / "home"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("Error: argument ") and "is not valid UTF-8 text" in result.stderr
    assert "Traceback" not in result.stderr and "caf" not in result.stderr
    assert not embedded_started(project)
