"""require_head: one rule and one message for a database at base, behind head, or at an unknown revision."""

import pytest

from todoctl.core import migrate
from todoctl.core.safety.revision_gate import require_head
from todoctl.db.engine import connection
from todoctl.errors import TodoctlError


def test_require_head_names_where_the_database_stands(migrated_db, empty_db, seeded_db):
    with connection(migrated_db) as conn:
        assert require_head(conn, "x", "seed").at_head
    with connection(empty_db) as conn:
        with pytest.raises(TodoctlError) as e:
            require_head(conn, "x", "seed")
    assert "at base" in e.value.message and "migrate up" in e.value.hint and e.value.exit_code == 1
    migrate.downgrade(migrated_db, "-2")
    with connection(migrated_db) as conn:
        with pytest.raises(TodoctlError) as e:
            require_head(conn, "x", "seed")
    assert "0006" in e.value.message and "2 pending: 0007, 0008" in e.value.message, e.value.message
    url = seeded_db("small")
    with connection(url) as conn:
        assert conn.exec_driver_sql("select count(*) from users").scalar() > 0
