"""The security review rules, each broken and followed: a small model, a real database, a file tree
in a real git repository (git init, git add, git commit), and the app's settings. No finding and
no message ever holds the password it found."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import CheckConstraint, Column, DateTime, Integer, MetaData, String, Table

from tests.core.review.helpers import findings, locations
from todoctl.core.review.rules.security import HASH_FORMATS, HASH_SAMPLES
from todoctl.db.url import DatabaseURL
from todoctl.todo.models import BCRYPT_PATTERN

SECRET = "Kq7zSecretPw"  # the password the broken fixtures leak


def _users(md: MetaData, *checks) -> Table:
    return Table("accounts", md, Column("id", Integer, primary_key=True), Column("password", String(100)),
                 Column("password_changed_at", DateTime(timezone=True)), *checks)


# ---------------------------------------------------------------- password-hash


def test_password_hash_without_a_constraint_in_the_models(tmp_path):
    md = MetaData()
    _users(md)
    found = findings("password-hash", tmp_path, md)
    assert locations(found) == {"accounts.password"}  # not password_changed_at: a timestamp holds no password
    assert "no CHECK constraint holds it to a hash format" in found[0].message


@pytest.mark.parametrize("check", ["length(password) >= 8", "password ~ '.+'", "password ~ '^[[:print:]]+$'"])
def test_password_hash_a_check_that_takes_plain_passwords_is_no_hash_format(tmp_path, check):
    md = MetaData()
    _users(md, CheckConstraint(check, name="pw"))
    assert locations(findings("password-hash", tmp_path, md)) == {"accounts.password"}


def test_password_hash_with_the_bcrypt_constraint_is_quiet(tmp_path):
    md = MetaData()
    _users(md, CheckConstraint(f"password ~ '{BCRYPT_PATTERN}'", name="pw"))
    assert findings("password-hash", tmp_path, md) == []


def test_password_hash_counts_unhashed_rows_and_never_shows_them(pg, empty_db, tmp_path):
    pg.execute(
        "CREATE TABLE accounts (id int PRIMARY KEY, password varchar(100)); "
        f"INSERT INTO accounts VALUES (1, '{SECRET}'), (2, 'hunter2'), (3, '{HASH_SAMPLES[0]}'), "
        f"(4, '{HASH_SAMPLES[1]}'), (5, NULL); "
        f"ALTER TABLE accounts ADD CONSTRAINT pw CHECK (password ~ '{BCRYPT_PATTERN}' OR password ~ '{HASH_FORMATS['argon2'][0]}') NOT VALID",
        database=empty_db.database,
    )
    found = findings("password-hash", tmp_path, url=empty_db)
    assert [f.message for f in found] == [
        "2 row(s) of accounts hold a password that is not a bcrypt, Argon2, scrypt or PBKDF2 hash"
    ]
    assert all(SECRET not in str(f) and "hunter2" not in str(f) for f in found)

    pg.execute("DELETE FROM accounts WHERE id IN (1, 2); ALTER TABLE accounts VALIDATE CONSTRAINT pw",
               database=empty_db.database)
    assert findings("password-hash", tmp_path, url=empty_db) == []


def test_password_hash_a_live_column_without_the_constraint(pg, empty_db, tmp_path):
    pg.execute("CREATE TABLE accounts (id int PRIMARY KEY, password_hash text, "
               "CHECK (password_hash ~ '^[[:print:]]+$'))", database=empty_db.database)
    found = findings("password-hash", tmp_path, url=empty_db)
    assert [(f.location, "(in the database)" in f.message) for f in found] == [("accounts.password_hash", True)]


def test_password_hash_a_live_posix_pattern_is_judged_by_the_server(pg, empty_db, tmp_path):
    # [[:alnum:]] is PostgreSQL's, not Python's: the server evaluates the live constraint's pattern.
    pg.execute("CREATE TABLE accounts (id int PRIMARY KEY, password_hash text, "
               "CHECK (password_hash ~ '^\\$2[aby]\\$[[:digit:]]{2}\\$[./[:alnum:]]{53}$'))", database=empty_db.database)
    assert findings("password-hash", tmp_path, url=empty_db) == []


# ---------------------------------------------------------------- hardcoded-credentials


def git(root, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root, check=True,
                   capture_output=True)


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text(".venv/\n.env\n")
    return tmp_path


def _all_text(found) -> str:
    return "\n".join(f"{f.location} {f.message} {f.hint}" for f in found)


def test_hardcoded_credentials_in_ini_python_and_toml(repo):
    (repo / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\n"
        "# sqlalchemy.url = driver://user:pass@localhost/dbname\n"  # a comment: configparser skips it
        f"sqlalchemy.url = postgresql://app:{SECRET}@db.example.com/app\n"
    )
    (repo / "settings.py").write_text(
        '"""Settings: DATABASE_URL=postgresql://USER:PASSWORD@HOST/DB is a placeholder."""\n'
        "import os\n\n"
        f'URL = os.environ.get("DATABASE_URL", "postgresql://app:{SECRET}@db.example.com/app")\n'
    )
    (repo / "config.toml").write_text(f'[db]\nname = "app"\nurl = "postgres://app:{SECRET}@db.example.com:5432/app"\n')
    found = findings("hardcoded-credentials", repo)
    assert locations(found) == {"alembic.ini:4", "settings.py:4", "config.toml:3"}
    assert SECRET not in _all_text(found)
    assert "postgresql://app:***@db.example.com/app" in _all_text(found)


def test_hardcoded_credentials_connection_strings_and_password_arguments(repo):
    (repo / "db.py").write_text(
        "import os\nimport psycopg\n\n"
        f'conn = psycopg.connect(host="db.example.com", user="app", password="{SECRET}")\n'
        'ok = psycopg.connect(host="db.example.com", password=os.environ["PGPASSWORD"])\n'
        f'DSN = "host=db.example.com dbname=app user=app password={SECRET}"\n'
        'TEXT = "the password = is what you type"\n'
    )
    (repo / "tool.ini").write_text(f"[db]\ndsn = host=db.example.com user=app password={SECRET}\n")
    found = findings("hardcoded-credentials", repo)
    assert {(f.location, f.message.split(":")[0]) for f in found} == {
        ("db.py:4", "a literal password passed as password=..."),
        ("db.py:6", "a connection string with a password in it"),
        ("tool.ini:2", "a connection string with a password in it"),
    }
    assert SECRET not in _all_text(found)


def test_hardcoded_credentials_placeholders_and_ignored_files_are_quiet(repo):
    (repo / "alembic.ini").write_text("[alembic]\nsqlalchemy.url = postgresql://USER:PASSWORD@HOST/DB\n")
    (repo / "app.py").write_text('URL = "postgresql://app:${DB_PASSWORD}@db.example.com/app"\n'
                                 'OTHER = "postgresql://app@db.example.com/app"\n')
    (repo / ".env").write_text(f"DATABASE_URL=postgresql://app:{SECRET}@db.example.com/app\n")  # ignored by git
    (repo / ".venv").mkdir()
    (repo / ".venv" / "leak.py").write_text(f'U = "postgresql://a:{SECRET}@h/d"\n')
    assert findings("hardcoded-credentials", repo) == []


def test_hardcoded_credentials_env_not_ignored_by_git(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / ".env").write_text(f"DEBUG=1\nDATABASE_URL='postgresql://app:{SECRET}@db.example.com/app'\n")
    found = findings("hardcoded-credentials", tmp_path)
    assert locations(found) == {".env:2", ".gitignore"}
    assert ".env is not ignored by git" in next(f.message for f in found if f.location == ".gitignore")
    assert SECRET not in _all_text(found)


def test_hardcoded_credentials_committed_env(repo):
    (repo / ".env").write_text(f"DATABASE_URL=postgresql://app:{SECRET}@db.example.com/app\n")
    git(repo, "add", "-f", ".env", ".gitignore")
    git(repo, "commit", "-q", "-m", "oops")
    found = findings("hardcoded-credentials", repo)
    assert locations(found) == {".env", ".env:1"}
    assert "git rm --cached .env" in next(f.hint for f in found if f.location == ".env")


# ---------------------------------------------------------------- ssl-required


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://app:{SECRET}@ep-cool-1.eu-central-1.aws.neon.tech/app",
        f"postgresql://app:{SECRET}@db.example.com/app?sslmode=prefer",
        f"postgres://app:{SECRET}@db.example.com/app?sslmode=disable",
    ],
)
def test_ssl_required_a_remote_url_without_require(tmp_path, url):
    found = findings("ssl-required", tmp_path, environ={"DATABASE_URL": url})
    assert locations(found) == {"DATABASE_URL"}
    assert SECRET not in _all_text(found)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://app:{SECRET}@ep-cool-1.eu-central-1.aws.neon.tech/app?sslmode=require",
        f"postgresql://app:{SECRET}@db.example.com/app?sslmode=verify-full",
        f"postgresql://app:{SECRET}@localhost/app",
    ],
)
def test_ssl_required_is_quiet_with_require_or_a_local_host(tmp_path, url):
    assert findings("ssl-required", tmp_path, environ={"DATABASE_URL": url, "DATABASE_URL_UNPOOLED": url}) == []


def test_ssl_required_live_session_to_a_remote_host_not_encrypted(pg, empty_db, tmp_path):
    # A real session over TCP to a non-local address (forwarded to the test server's socket), without
    # SSL, as it would be to a remote server with ssl off. (A host= naming the socket would be local:
    # libpq connects where host=/hostaddr= say, and so does todoctl's reading of the URL.)
    from tests.helpers import TcpToUnixSocket

    params = empty_db.params
    socket_path = f"{params['host']}/.s.PGSQL.{params['port']}"
    with TcpToUnixSocket(socket_path) as tcp:
        remote = DatabaseURL(
            f"postgresql+psycopg://{params['user']}@db.example.com:{tcp.port}/{empty_db.database}?hostaddr={tcp.address}", "test"
        )
        assert not remote.is_local
        found = findings("ssl-required", tmp_path, url=remote)
    assert [(f.location, f.message) for f in found] == [
        ("database", "this review's session to the remote host db.example.com is not encrypted (pg_stat_ssl.ssl is false)")
    ]
    assert findings("ssl-required", tmp_path, url=empty_db) == []  # a local socket needs no SSL


# A LIKE that only an Argon2 hash passes is a hash format, read from the catalog (where it is
# ~~, and Alembic's doubled %% may have reached it) and from the models alike.
@pytest.mark.parametrize("pattern", ["$argon2id$%", "$argon2id$%%"])
def test_password_hash_a_live_like_check_is_a_hash_format(pg, empty_db, tmp_path, pattern):
    pg.execute(f"CREATE TABLE accounts (id int PRIMARY KEY, hashed_password varchar(255), "
               f"CHECK (hashed_password LIKE '{pattern}'))", database=empty_db.database)
    assert findings("password-hash", tmp_path, url=empty_db) == []


def test_password_hash_a_like_check_in_the_models_is_a_hash_format(tmp_path):
    md = MetaData()
    _users(md, CheckConstraint("password LIKE '$argon2id$%%'", name="pw"))
    assert findings("password-hash", tmp_path, md) == []


def test_password_hash_a_like_check_that_takes_plain_passwords_is_no_hash_format(pg, empty_db, tmp_path):
    pg.execute("CREATE TABLE accounts (id int PRIMARY KEY, hashed_password text, CHECK (hashed_password LIKE '%_%'))",
               database=empty_db.database)
    assert locations(findings("password-hash", tmp_path, url=empty_db)) == {"accounts.hashed_password"}
