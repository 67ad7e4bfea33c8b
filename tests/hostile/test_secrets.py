"""Hostile suite, class "secrets": a password never reaches stdout, stderr, JSON or a traceback,
whatever the URL's shape (README, "Guarantees"; docs/guarantees-targets.md).

Every URL or conninfo todoctl shows is read by libpq's parser and shown with ``***`` in its password
slot and nothing else changed. Free text (a driver's error, a traceback) has its URLs masked the same
way and every known password replaced — except a password that is also a part the target line
shows (user, host, database, scheme): hiding it there would mangle the message and hide nothing.
The cases run against a server that really checks passwords (SCRAM), so a password that survives
todoctl's reading is proven to be the one the server accepts.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from tests.hostile.conftest import document

# Characters that end or split a URL's parts, and the rest of ASCII punctuation.
SPECIAL = " !\"#$%&'()*+,/:;<=>?@[\\]^`{|}~"


@dataclass(frozen=True)
class Shape:
    """A way of writing a URL with a password; ``distinct`` when the password is no shown part."""

    id: str
    role: str
    password: str
    database: str
    where: str = "userinfo"  # "userinfo", "query", "PGPASSWORD", "asyncpg"
    distinct: bool = True

    def url(self, server, password: str | None = None) -> str:
        password = self.password if password is None else password
        if self.where == "userinfo":
            return server.url(self.role, quote(password, safe=""), self.database)
        if self.where == "asyncpg":
            return "postgresql+asyncpg" + server.url(self.role, quote(password, safe=""), self.database).removeprefix("postgresql")
        if self.where == "query":  # written as the user wrote it: '@' unencoded in the query string
            return server.url(self.role, None, self.database) + "&password=" + quote(password, safe="@")
        return server.url(self.role, None, self.database)  # PGPASSWORD

    def masked(self, server) -> str:
        """What the README promises to show: the URL as libpq reads it, *** in the password slot."""
        userinfo = quote(self.role, safe="") + ("" if self.where == "PGPASSWORD" else ":***")
        return f"postgresql://{userinfo}@/{quote(self.database, safe='')}?host={quote(server.socket, safe='/')}&port={server.port}"

    def leaks(self, text: str) -> list[str]:
        """The forms of the password that would reveal it as a password."""
        forms = {self.password, quote(self.password, safe=""), quote(self.password)}
        found = [f for f in forms if f":{f}@" in text or f"password={f}" in text or f"PGPASSWORD={f}" in text]
        if self.distinct:
            found += [f for f in forms if f in text]
        return found


SHAPES = [
    Shape("every-special-character", "hs_special", f"Zq7{SPECIAL}Tail", "hs_special"),
    Shape("query-password-with-at", "hs_query", "Zq7SENTINEL@secretTAIL", "hs_query", where="query"),
    Shape("query-password-with-ampersand", "hs_amp", "Zq7&amp=Tail", "hs_amp", where="query"),
    Shape("password-equals-user", "hs_same", "hs_same", "hs_same_db", distinct=False),
    Shape("password-equals-scheme", "hs_scheme", "postgresql", "hs_scheme", distinct=False),
    Shape("weak-password-postgres", "hs_weak", "postgres", "hs_weak", distinct=False),
    Shape("password-equals-database", "hs_dbpw", "hs_dbpw_db", "hs_dbpw_db", distinct=False),
    Shape("non-ascii-password", "hs_utf8", "Zq7-пароль-秘密-Tail", "hs_utf8"),
    Shape("asyncpg-url", "hs_async", "Zq7/async#Tail", "hs_async", where="asyncpg"),
    Shape("pgpassword-variable", "hs_pgpw", "Zq7-env-Tail", "hs_pgpw", where="PGPASSWORD"),
]
HOST_SHAPE_ID = "password-equals-host"


def _shapes():
    return SHAPES + [Shape(HOST_SHAPE_ID, "hs_host", "", "hs_host", distinct=False)]


@pytest.fixture
def shape_on(password_server, monkeypatch):
    """``shape_on(shape) -> shape`` with its role and database made on the password server."""

    def make(shape: Shape) -> Shape:
        if shape.id == HOST_SHAPE_ID:  # the socket directory is the host: the password is that path
            shape = Shape(shape.id, shape.role, password_server.socket, shape.database, distinct=False)
        password_server.role(shape.role, shape.password, shape.database)
        if shape.where == "PGPASSWORD":
            monkeypatch.setenv("PGPASSWORD", shape.password)
        return shape

    return make


def _no_leak(shape: Shape, *texts: str) -> None:
    for text in texts:
        assert shape.leaks(text) == [], text


IDS = [s.id for s in _shapes()]


# --------------------------------------------------------------------------- the channels, for every shape


@pytest.mark.parametrize("shape", _shapes(), ids=IDS)
def test_stdout_db_url_shows_the_url_masked_and_nothing_else_changed(project, cli, password_server, shape_on, shape):
    shape = shape_on(shape)
    code, stdout, stderr = cli("-d", shape.url(password_server), "db", "url")
    assert code == 0, stderr
    assert stdout.strip() == shape.masked(password_server)
    _no_leak(shape, stdout, stderr)


@pytest.mark.parametrize("shape", _shapes(), ids=IDS)
def test_json_target_database_is_masked_and_the_server_accepted_the_password(project, cli, password_server, shape_on, shape):
    """The command connects (the server checked the password libpq read), and the JSON names the target masked."""
    shape = shape_on(shape)
    code, stdout, stderr = cli("-d", shape.url(password_server), "schema", "show", "--json")
    assert code == 0, stdout + stderr
    target = document(stdout)["target_database"]
    assert target["url"] == shape.masked(password_server) and target["name"] == shape.database
    _no_leak(shape, stdout, stderr)


@pytest.mark.parametrize("shape", _shapes(), ids=IDS)
def test_stderr_target_line_is_masked(project, cli, password_server, shape_on, shape):
    shape = shape_on(shape)
    code, stdout, stderr = cli("-d", shape.url(password_server), "db", "protect", "--reason", "hostile")
    assert code == 0, stderr
    assert stderr.splitlines()[0] == f"target: {shape.masked(password_server)} (from --database-url)"
    _no_leak(shape, stdout, stderr)


@pytest.mark.parametrize("as_json", [False, True], ids=["stderr", "json"])
@pytest.mark.parametrize("shape", _shapes(), ids=IDS)
def test_an_authentication_failure_never_shows_the_password_tried(project, cli, password_server, shape_on, shape, as_json):
    """The wrong password (the right one with a character changed) fails at the server: exit 3."""
    shape = shape_on(shape)
    wrong = shape.password[:-1] + ("X" if not shape.password.endswith("X") else "Y")
    tried = Shape(shape.id, shape.role, wrong, shape.database, shape.where, shape.distinct)
    if shape.where == "PGPASSWORD":
        import os

        os.environ["PGPASSWORD"] = wrong  # restored by shape_on's monkeypatch
    args = ("-d", tried.url(password_server), "migrate", "status") + (("--json",) if as_json else ())
    code, stdout, stderr = cli(*args)
    assert code == 3, stdout + stderr
    message = document(stdout)["error"]["message"] if as_json else stderr.splitlines()[0]
    assert "authentication failed" in message
    _no_leak(tried, stdout, stderr)
    _no_leak(shape, stdout, stderr)


REVISION = '''"""a revision whose library error echoes the connection URL, password and all"""
from alembic import op
revision = "ffff00000001"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade():
    url = op.get_bind().engine.url.render_as_string(hide_password=False)
    raise RuntimeError(f"library could not use {{url}} (password={{op.get_bind().engine.url.password}})")


def downgrade():
    pass
'''


@pytest.mark.parametrize("shape", _shapes(), ids=IDS)
def test_a_verbose_traceback_of_an_error_that_echoes_the_url_is_masked(project, cli, password_server, shape_on, shape):
    """--verbose prints the cause's traceback; a library that puts the URL (and password) in its
    exception does not get it through."""
    from tests.helpers import copy_migrations
    from todoctl.core.history import script_directory

    shape = shape_on(shape)
    head = script_directory(None).get_current_head()
    migrations = copy_migrations(project, {"ffff_echo.py": REVISION.format(head=head)})
    code, stdout, stderr = cli("-v", "-d", shape.url(password_server), "migrate", "up", "--migrations", str(migrations))
    assert code == 1, stdout + stderr
    assert "Traceback" in stderr and "library could not use" in stderr
    _no_leak(shape, stdout, stderr)
    password_server.admin(f'DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION "{shape.role}"', shape.database)


# --------------------------------------------------------------------------- one character at a time


@pytest.mark.parametrize("char", list(SPECIAL), ids=[f"U+{ord(c):04X}" for c in SPECIAL])
def test_each_url_special_character_in_a_password_reaches_the_server_and_is_masked(project, cli, password_server, char):
    """README: percent-encode / # ? @ % (and any other): the server accepts the password as written."""
    shape = Shape(f"char-{ord(char)}", f"hs_c{ord(char)}", f"Zq7{char}Xw{char}", "hs_chars")
    password_server.role(shape.role, shape.password, shape.database)
    password_server.admin(f'GRANT ALL ON DATABASE hs_chars TO "{shape.role}"')
    code, stdout, stderr = cli("-d", shape.url(password_server), "db", "protection", "--json")
    assert code == 0, stdout + stderr
    assert document(stdout)["target_database"]["url"] == shape.masked(password_server)
    _no_leak(shape, stdout, stderr)


@pytest.mark.parametrize("as_json", [False, True], ids=["stderr", "json"])
@pytest.mark.parametrize(
    "written",
    [
        "postgresql://app:Zq7/Xw1@db.example/app",
        "postgresql://app:Zq7#Xw1@db.example/app",
        "postgresql://app:Zq7?Xw1@db.example/app",
        "postgresql://app:Zq7@Xw1@db.example/app",
        "postgresql://app:Zq7/Xw1#Vu2?Ts3@db.example/app",
        "postgresql://app:1234/Zq7Xw1@db.example/app",
        "postgresql://app:Zq7 Xw1@db.example/app",
        "host=db.example user=app password=Zq7Xw1 dbname=app",
        "host=db.example password='Zq7 Xw1' dbname=app",
        "postgresql://app@db.example/app?password=Zq7Xw1&sslmode=bogus&x",
    ],
    ids=["slash", "hash", "question", "at", "all", "looks-like-a-port", "space", "conninfo", "conninfo-quoted", "unreadable-query"],
)
def test_a_url_todoctl_cannot_use_never_shows_its_password(project, cli, written, as_json):
    """README: a URL that cannot be used is exit 3, shown as postgresql://***@host/db at most."""
    code, stdout, stderr = cli("-d", written, "migrate", "status", *(["--json"] if as_json else []))
    assert code == 3, stdout + stderr
    for fragment in ("Zq7", "Xw1", "1234", "Vu2", "Ts3"):
        assert fragment not in stdout + stderr


# --------------------------------------------------------------------------- the masking function itself


@pytest.mark.parametrize(
    "text, shown",
    [
        ("postgresql://owner@host/app?password=Zq7SENTINEL@secretTAIL", "postgresql://owner@host/app?password=***"),
        ("postgresql://postgres:postgres@localhost/postgres", "postgresql://postgres:***@localhost/postgres"),
        ("postgresql://app:app@app/app", "postgresql://app:***@app/app"),
        ("postgresql://app:postgresql@db/app", "postgresql://app:***@db/app"),
        ("postgres://u:p%40ss@h:5432/d?sslmode=require", "postgres://u:***@h:5432/d?sslmode=require"),
        ("postgresql+psycopg://u:pw@/d?host=/tmp/sock&port=5", "postgresql+psycopg://u:***@/d?host=/tmp/sock&port=5"),
        ("postgresql://u@h/d?pass%77ord=pw&application_name=x", "postgresql://u@h/d?pass%77ord=***&application_name=x"),
        ("postgresql://u:a?b@h/d", "postgresql://u:***@h/d"),
        ("host=h user=u password=secret dbname=d", "host=h user=u password=*** dbname=d"),
        ("host=h password = 'a b\\' c' dbname=d", "host=h password = *** dbname=d"),
        ("password=x", "password=***"),
        ("postgresql://u:@h/d", "postgresql://u:@h/d"),
        ("postgresql://h/d", "postgresql://h/d"),
        ("postgresql://u:p@h/d?password", "postgresql://***"),
        ("not a url at all = = =", "***"),
        # Every value libpq itself marks secret, not only the password (attack pass 2, F3).
        ("postgresql://u@h/d?sslpassword=Zebra7Qz", "postgresql://u@h/d?sslpassword=***"),
        ("postgresql://u@h/d?oauth_client_secret=Sec9x&sslmode=require", "postgresql://u@h/d?oauth_client_secret=***&sslmode=require"),
        ("postgresql://u:pw@h/d?sslpassword=Quux7Qz", "postgresql://u:***@h/d?sslpassword=***"),
        ("host=h sslpassword=Zebra7Qz dbname=d", "host=h sslpassword=*** dbname=d"),
    ],
)
def test_mask_url_masks_the_password_slot_and_changes_nothing_else(text, shown):
    from todoctl.db.secrets import mask_url

    assert mask_url(text) == shown


def test_free_text_keeps_a_user_name_equal_to_the_password_readable():
    """A driver error for postgres/postgres: the user name stays, the URL's password slot is masked."""
    from todoctl.db.secrets import mask
    from todoctl.db.url import normalise

    normalise("postgresql://postgres:postgres@localhost/postgres", source="test")
    text = 'FATAL:  password authentication failed for user "postgres" (postgresql://postgres:postgres@localhost/postgres)'
    assert mask(text) == 'FATAL:  password authentication failed for user "postgres" (postgresql://postgres:***@localhost/postgres)'


def test_free_text_loses_every_distinct_password_known_this_run():
    from todoctl.db.secrets import mask
    from todoctl.db.url import normalise

    normalise("postgresql://app:Zq7%20distinct%2Fpw@db.example/app", source="test")
    text = "invalid value \"Zq7 distinct/pw\" and Zq7%20distinct%2Fpw, in a sentence"
    assert mask(text) == 'invalid value "***" and ***, in a sentence'


def test_a_short_password_is_replaced_only_where_it_stands_alone():
    from todoctl.db.secrets import mask
    from todoctl.db.url import normalise

    normalise("postgresql://app:q9@db.example/app", source="test")
    assert mask('wrong password "q9" near q9x and xq9') == 'wrong password "***" near q9x and xq9'


# --------------------------------------------------------------------------- other channels


@pytest.mark.parametrize(
    "statement",
    [
        "SET app.token = {token}",
        "SET LOCAL app.token TO {token}",
        "SET search_path TO public, {token}",
        "SELECT set_config('app.token', '{token}', true)",
        "ALTER ROLE {role} SET app.token = {token}",
    ],
    ids=["set", "set-local-to", "list", "set_config", "alter-role-set"],
)
def test_another_sessions_unquoted_setting_is_masked_in_health(pg, migrated_db, statement):
    """Medium item of issue 26: `SET x = secret` (no quotes: an identifier to the lexer) is masked."""
    import psycopg

    from tests.core.health.test_health import session_state, wait_until
    from typer.testing import CliRunner

    from todoctl.cli.app import app

    token = f"zq7tok{uuid.uuid4().hex[:12]}"
    role = f"hs_set_{uuid.uuid4().hex[:8]}"
    pg.execute(f"CREATE ROLE {role} LOGIN")
    idle = psycopg.connect(migrated_db.libpq)
    try:
        idle.execute(statement.format(token=token, role=role))  # the transaction stays open
        wait_until(lambda: session_state(pg, migrated_db, idle.info.backend_pid) == "idle in transaction", what="open transaction")
        result = CliRunner().invoke(
            app, ["-d", migrated_db.url, "health", "--json", "-t", "idle_in_transaction_warn_s=0", "-t", "idle_in_transaction_fail_s=3600"]
        )
    finally:
        idle.rollback()
        idle.close()
        pg.execute(f"DROP ROLE IF EXISTS {role}")
    assert result.exit_code == 0, result.output
    assert token not in result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    shown = [s["query"] for s in checks["idle-in-transaction"]["details"]["sessions"]]
    first_word = statement.split()[0]
    assert any(q.startswith(first_word) for q in shown), shown  # still recognisable, value gone


@pytest.mark.parametrize(
    "name, content",
    [
        ("settings.toml", '[database]\npassword = "Zq7tomlsecret"\n'),
        ("settings.toml", '[database]\ndb_password = "Zq7tomlsecret"\n'),
        ("settings.toml", "[[servers]]\nPGPASSWORD = 'Zq7tomlsecret'\n"),
        ("setup.cfg", "[db]\npassword = Zq7tomlsecret\n"),
    ],
    ids=["toml-password", "toml-db_password", "toml-array-of-tables", "ini-password"],
)
def test_review_finds_a_literal_password_under_a_password_key(project, name, content):
    """Medium item of issue 26: review finds `password = "..."` in TOML (and INI), never printing it."""
    from typer.testing import CliRunner

    from todoctl.cli.app import app

    # Review scans the configuration files at the top of the app's project: make the directory one.
    (project / "pyproject.toml").write_text('[tool.todoctl]\nmetadata = "todoctl.todo.models:metadata"\n')
    (project / name).write_text(content)
    result = CliRunner().invoke(app, ["review", "--offline", "--only", "hardcoded-credentials", "--json"])
    findings = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "hardcoded-credentials"]
    assert any(f["location"] == f"{name}:2" and "literal password" in f["message"] for f in findings), findings
    assert "Zq7tomlsecret" not in result.output


def test_review_leaves_placeholders_and_password_settings_alone(project):
    from typer.testing import CliRunner

    from todoctl.cli.app import app

    (project / "settings.toml").write_text(
        '[db]\npassword = "${DB_PASSWORD}"\npassword_reset_url = "https://example.com/reset"\npwd = ""\n'
    )
    result = CliRunner().invoke(app, ["review", "--offline", "--only", "hardcoded-credentials", "--json"])
    findings = [f for f in json.loads(result.stdout)["findings"] if f["location"].startswith("settings.toml")]
    assert findings == []


def test_show_password_is_the_one_way_to_print_it(project, cli, password_server):
    shape = Shape("show", "hs_show", "Zq7-show-Tail", "hs_show")
    password_server.role(shape.role, shape.password, shape.database)
    code, stdout, _ = cli("-d", shape.url(password_server), "db", "url", "--show-password")
    assert code == 0 and quote(shape.password, safe="") in stdout


def test_a_password_in_dotenv_pgpassword_never_shows(project, cli, password_server):
    """A .env libpq configuration's PGPASSWORD is sent, and masked wherever the URL is shown."""
    shape = Shape("dotenv-pgpassword", "hs_dotpw", "Zq7-dotenv-Tail", "hs_dotpw")
    password_server.role(shape.role, shape.password, shape.database)
    (project / ".env").write_text(
        f"PGHOST={password_server.socket}\nPGPORT={password_server.port}\nPGUSER={shape.role}\n"
        f"PGDATABASE={shape.database}\nPGPASSWORD={shape.password}\n"
    )
    code, stdout, stderr = cli("db", "protect", "--reason", "x", "--json")
    assert code == 0, stdout + stderr
    assert document(stdout)["target_database"]["url"].startswith(f"postgresql://{shape.role}:***@")
    _no_leak(shape, stdout, stderr)


def test_reading_libpq_defaults_leaves_the_environment_alone(project, monkeypatch):
    """Without a service, libpq's defaults are read from the environment and nothing is changed; with
    a service named in a URL, PGSERVICE is set for one libpq call and restored (todoctl/db/libpq.py)."""
    import os

    from todoctl.db import libpq

    services = project.parent / "s.conf"
    services.write_text("[a]\nhost=a.example\nport=6543\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.setenv("PGSERVICE", "b")
    monkeypatch.setenv("PGHOST", "env.example")
    seen: set[tuple] = set()
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen.add((os.environ.get("PGSERVICE"), os.environ.get("PGHOST")))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        monkeypatch.delenv("PGSERVICE")
        for _ in range(200):
            assert libpq.effective({"dbname": "x"}) == {"host": "env.example", "dbname": "x"}
    finally:
        stop.set()
        watcher.join()
    assert seen <= {("b", "env.example"), (None, "env.example")}
    assert libpq.effective({"service": "a"})["host"] == "a.example"  # the service file beats PGHOST, as in libpq
    assert os.environ.get("PGSERVICE") is None and os.environ["PGHOST"] == "env.example"


def test_every_value_libpq_marks_secret_is_masked_as_the_password_is():
    """The rule is libpq's own (PQconndefaults' display character), not a list of names here."""
    from psycopg.pq import Conninfo

    from todoctl.db.libpq import secret_keys
    from todoctl.db.secrets import mask, mask_url

    hidden = {o.keyword.decode() for o in Conninfo.get_defaults() if o.dispchar == b"*"}
    assert {"password", "sslpassword"} <= hidden <= secret_keys()
    for key in sorted(hidden):
        value = f"Zq7{key}TAIL"
        shown = mask_url(f"postgresql://u@h/d?{key}={value}")
        assert value not in shown and f"{key}=***" in shown
        assert value not in mask(f"could not connect with {key}={value} to h")


def test_a_child_process_never_gets_a_secret_on_its_command_line(project, pg):
    """psql and pg_dump see the URL in ``ps``: sslpassword goes in a private service file instead."""
    import os
    import stat
    import subprocess

    from todoctl.db.url import normalise

    base = pg.url_for("postgres").url
    url = normalise(base + ("&" if "?" in base else "?") + "sslpassword=Zq7sslTAIL", source="test")
    conninfo, env = url.for_child_process()
    assert "Zq7sslTAIL" not in conninfo and "sslpassword" not in conninfo
    service_file = env["PGSERVICEFILE"]
    assert stat.S_IMODE(os.stat(service_file).st_mode) == 0o600
    from todoctl.db import embedded

    # The child really receives it: psql connects with the service file filling in the secret.
    result = subprocess.run(
        [embedded.psql_path(), conninfo, "-XAtc", "SELECT 1"], env={**os.environ, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.strip() == "1", result.stderr
