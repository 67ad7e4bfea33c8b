"""Real PostgreSQL for every test: the embedded server (started here in a temporary
directory and stopped at the end) or any server named by TODOCTL_TEST_DATABASE_URL.

Each test gets its own database, copied cheaply from a migrated template.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

# Tests never read a developer's DATABASE_URL or .env, nor touch their embedded server.
for _name in ("DATABASE_URL", "DATABASE_URL_UNPOOLED", "DATABASE_URL_REPLICA"):
    os.environ.pop(_name, None)
_TEST_HOME = Path(tempfile.mkdtemp(prefix="todoctl-test-home-"))
atexit.register(shutil.rmtree, _TEST_HOME, ignore_errors=True)  # also when no test used a server
os.environ["TODOCTL_HOME"] = str(_TEST_HOME)
os.environ.setdefault("NO_COLOR", "1")

from todoctl.db.url import DatabaseURL, normalise  # noqa: E402


class Server:
    """An admin connection to a test server and a way to make databases on it."""

    def __init__(self, admin_url: str) -> None:
        self.admin = normalise(admin_url, source="test")

    def url_for(self, database: str) -> DatabaseURL:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.admin.url)
        return DatabaseURL(urlunsplit(parts._replace(path="/" + database)), "test")

    def execute(self, sql: str, database: str | None = None) -> list[tuple]:
        import psycopg

        target = self.url_for(database) if database else self.admin
        with psycopg.connect(target.url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def create_database(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg() -> Server:
    external = os.environ.get("TODOCTL_TEST_DATABASE_URL")
    if external:
        yield Server(external)
        return
    from todoctl.db import embedded

    root = Path(tempfile.mkdtemp(prefix="todoctl-test-pg-"))
    pgdata = root / "pgdata"
    server = embedded.start(pgdata)
    try:
        yield Server(server.url("postgres"))
    finally:
        embedded.stop(pgdata)
        shutil.rmtree(root, ignore_errors=True)
        embedded_home = _TEST_HOME / "pgdata"
        if embedded.inspect(embedded_home).running:  # a test that used the default embedded server
            embedded.stop(embedded_home)
        shutil.rmtree(_TEST_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_template(pg: Server) -> str:
    from todoctl.core import migrate

    name = pg.create_database()
    migrate.upgrade(pg.url_for(name), "head")
    yield name
    pg.drop_database(name)


@pytest.fixture
def empty_db(pg: Server) -> DatabaseURL:
    """A fresh database with no tables."""
    name = pg.create_database()
    yield pg.url_for(name)
    pg.drop_database(name)


@pytest.fixture
def migrated_db(pg: Server, migrated_template: str) -> DatabaseURL:
    """A fresh database at head, copied from the migrated template."""
    name = pg.create_database(template=migrated_template)
    yield pg.url_for(name)
    pg.drop_database(name)


def _bench_explain():
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "bench" / "explain.py"
    spec = importlib.util.spec_from_file_location("bench_explain", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def workload_template(pg: Server, migrated_template: str) -> str:
    """A migrated database holding 1,000 users; three heavy users own 3,000 tasks each (~39k tasks)."""
    name = pg.create_database(template=migrated_template)
    _bench_explain().fill(pg.url_for(name))
    yield name
    pg.drop_database(name)


@pytest.fixture
def workload_db(pg: Server, workload_template: str) -> DatabaseURL:
    """A fresh copy of the workload: realistic plans for explain."""
    name = pg.create_database(template=workload_template)
    yield pg.url_for(name)
    pg.drop_database(name)


@pytest.fixture(scope="session")
def seeded_template(pg: Server, migrated_template: str):
    """``seeded_template(profile="demo", users=None) -> database name``: a migrated database seeded
    with that profile (and user count), made once per session and shared by every test that asks."""
    made: dict[tuple, str] = {}

    def make(profile: str = "demo", users: int | None = None) -> str:
        key = (profile, users)
        if key not in made:
            from todoctl.core import seed

            name = pg.create_database(template=migrated_template)
            seed.run(pg.url_for(name), profile=profile, users=users)
            made[key] = name
        return made[key]

    yield make
    for name in made.values():
        pg.drop_database(name)


@pytest.fixture
def seeded_db(pg: Server, seeded_template):
    """``seeded_db(profile="demo", users=None) -> DatabaseURL``: a fresh copy of a seeded template,
    dropped after the test (the copy has the template's planner statistics, not its activity counters)."""
    copies: list[str] = []

    def make(profile: str = "demo", users: int | None = None) -> DatabaseURL:
        name = pg.create_database(template=seeded_template(profile, users))
        copies.append(name)
        return pg.url_for(name)

    yield make
    for name in copies:
        pg.drop_database(name)


def table_names(pg: Server, url: DatabaseURL) -> set[str]:
    rows = pg.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database=url.database)
    return {row[0] for row in rows}


from tests.topology import topology  # noqa: E402,F401  (the `topology` tier's session fixture)


# ---------------------------------------------------------------- the second app (tests/apps/shelf)

SHELF = Path(__file__).resolve().parent / "apps" / "shelf"


@pytest.fixture(scope="session")
def shelf_project():
    """shelf, the second app: its own models, history, queries and engine (tests/apps/shelf)."""
    from todoctl import project

    return project.from_directory(SHELF)


def _template_at_head(pg: Server, chosen):
    """A database migrated to ``chosen`` app's head (a template for fresh copies), dropped after."""
    from todoctl import project
    from todoctl.core import migrate

    name = pg.create_database()
    with project.use(chosen):
        migrate.upgrade(pg.url_for(name), "head")
    yield name
    pg.drop_database(name)


def _copy_of(pg: Server, template: str):
    name = pg.create_database(template=template)
    yield pg.url_for(name)
    pg.drop_database(name)


@pytest.fixture(scope="session")
def shelf_template(pg: Server, shelf_project) -> str:
    yield from _template_at_head(pg, shelf_project)


@pytest.fixture
def shelf_db(pg: Server, shelf_template: str) -> DatabaseURL:
    """A fresh database at shelf's head."""
    yield from _copy_of(pg, shelf_template)


# ---------------------------------------------------------------- the third app (tests/apps/shop)

SHOP = Path(__file__).resolve().parent / "apps" / "shop"


@pytest.fixture(scope="session")
def shop_project():
    """shop, the third app: every table in schema `shop`, a native enum there, reserved-word names."""
    from todoctl import project

    return project.from_directory(SHOP)


@pytest.fixture(scope="session")
def shop_template(pg: Server, shop_project) -> str:
    yield from _template_at_head(pg, shop_project)


@pytest.fixture
def shop_db(pg: Server, shop_template: str) -> DatabaseURL:
    """A fresh database at shop's head."""
    yield from _copy_of(pg, shop_template)


@pytest.fixture
def use_app():
    """``use_app(project)``: work on that app for the rest of the test (core calls, not the CLI)."""
    from todoctl import project

    entered = []

    def use(chosen):
        manager = project.use(chosen)
        manager.__enter__()
        entered.append(manager)
        return chosen

    yield use
    for manager in reversed(entered):
        manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def shelf_filled_template(pg: Server, shelf_template: str) -> str:
    """shelf at head, filled with plain SQL (tests/shelf_data.py): 2,000 readers, 20,000 books, 60,000 loans."""
    from tests import shelf_data

    name = pg.create_database(template=shelf_template)
    shelf_data.fill(pg, name)
    yield name
    pg.drop_database(name)


@pytest.fixture
def shelf_filled_db(pg: Server, shelf_filled_template: str) -> DatabaseURL:
    """A fresh copy of the filled shelf (planner statistics copied; activity counters start at zero)."""
    name = pg.create_database(template=shelf_filled_template)
    yield pg.url_for(name)
    pg.drop_database(name)


@pytest.fixture(autouse=True)
def _forget_the_selected_project():
    """A CLI test's --project stays selected in this process until the next invocation's root
    callback: forget it after each test, so that a core test works on the app of its working directory."""
    yield
    from todoctl import project

    project.select(None)
