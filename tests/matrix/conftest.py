"""Fixtures of the `matrix` tier: one server per PostgreSQL major, shared by all its tests.

Locally a major whose binaries are missing is skipped with a one-line reason; with CI set
(`.ci/run` on the CI machine) it is a failure.
"""

from __future__ import annotations

import os

import pytest

from tests.matrix import servers


@pytest.fixture(scope="session", params=servers.MAJORS, ids=lambda major: f"pg{major}")
def matrix_pg(request) -> servers.MatrixServer:
    major = request.param
    reason = servers.unavailable(major)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the matrix tier must run in CI: {reason}")
        pytest.skip(reason)
    server = servers.start(major)
    try:
        yield server
    finally:
        servers.stop(server)


@pytest.fixture(scope="session")
def matrix_migrated(matrix_pg) -> str:
    """A database at head on this major, made once: the template of `matrix_db`."""
    from todoctl.core import migrate

    name = matrix_pg.server.create_database()
    migrate.upgrade(matrix_pg.server.url_for(name), "head")
    return name


@pytest.fixture
def matrix_db(matrix_pg, matrix_migrated):
    """A fresh database at head on this major, dropped after the test."""
    name = matrix_pg.server.create_database(template=matrix_migrated)
    yield matrix_pg.server.url_for(name)
    matrix_pg.server.drop_database(name)


@pytest.fixture
def matrix_empty(matrix_pg):
    """A fresh empty database on this major, dropped after the test."""
    name = matrix_pg.server.create_database()
    yield matrix_pg.server.url_for(name)
    matrix_pg.server.drop_database(name)


@pytest.fixture(scope="session")
def matrix_seeded(matrix_pg, matrix_migrated):
    """``(url, seed report)``: the `small` profile seeded once on this major, with
    pg_stat_statements installed; tests only read it (explain rolls back)."""
    from todoctl.core import seed

    name = matrix_pg.server.create_database(template=matrix_migrated)
    url = matrix_pg.server.url_for(name)
    report = seed.run(url, profile="small")
    matrix_pg.server.execute("CREATE EXTENSION pg_stat_statements", database=name)
    return url, report


@pytest.fixture(scope="session")
def reference_fingerprint(pg, seeded_template) -> str:
    """The `small` profile's fingerprint on the default test server (the embedded PostgreSQL 18)."""
    from todoctl.core import seed

    return seed.fingerprint(pg.url_for(seeded_template("small")))
