"""The blocking check on a real server: a real lock held, a real session waiting on it."""

from __future__ import annotations

from tests.core.health.lock_chain import holding_lock, waiting_on
from tests.core.health.test_health import run
from todoctl.core.health.registry import Status


def test_nothing_waiting_is_ok(migrated_db):
    with holding_lock(migrated_db):  # a lock held but nobody waiting on it is fine
        check = run(migrated_db, "blocking").checks[0]
    assert check.status is Status.OK
    assert check.details["chains"] == [] and check.value.startswith("none waiting")


def test_a_chain_names_its_root_blocker_and_grades_the_wait(pg, migrated_db):
    with holding_lock(migrated_db) as (holder, secret), waiting_on(pg, migrated_db, holder) as waiter:
        quiet = run(migrated_db, "blocking", blocking_warn_s=3600, blocking_fail_s=7200).checks[0]
        warned = run(migrated_db, "blocking", blocking_warn_s=0, blocking_fail_s=3600).checks[0]
        failed = run(migrated_db, "blocking", blocking_warn_s=0, blocking_fail_s=0).checks[0]
    assert quiet.status is Status.OK and quiet.hint is None
    assert warned.status is Status.WARN and failed.status is Status.FAIL
    assert f"todoctl db cancel {holder} --terminate" in failed.hint  # the holder is idle in transaction
    [chain] = failed.details["chains"]
    assert chain["pid"] == holder and chain["application"] == "lock-holder"
    assert chain["waiting_ms"] is None and chain["blocked_by"] == []
    [child] = chain["blocking"]
    assert child["pid"] == waiter and child["blocked_by"] == [holder] and child["application"] == "lock-waiter"
    assert child["waiting_ms"] >= 0 and "LOCK TABLE tasks" in child["query"]
    assert f"pid {holder}" in failed.value and f"(pid {waiter})" in failed.value
    assert secret not in str(failed.details) and "SELECT" in chain["query"]  # the literal is masked


def test_waits_in_another_database_are_not_listed(pg, migrated_db, migrated_template):
    other = pg.url_for(pg.create_database(template=migrated_template))
    try:
        with holding_lock(other) as (holder, _secret), waiting_on(pg, other, holder):
            check = run(migrated_db, "blocking", blocking_warn_s=0, blocking_fail_s=0).checks[0]
    finally:
        pg.drop_database(other.database)
    assert check.status is Status.OK and check.details["chains"] == []
