"""Explain benchmark: task-list for the heaviest user with and without its index.

    python bench/explain.py                      # embedded server, `load` seed if available
    python bench/explain.py --synthetic          # todoctl's own generated workload instead
    python bench/explain.py --users 2000 --heavy-tasks 20000

Creates a scratch database, migrates it, fills it, runs ANALYZE, then measures `task-list`
(EXPLAIN ANALYZE, median of --runs) with ix_tasks_user_status_due, drops the index, measures
again, and prints both plans and the ratio (no absolute targets: the machine is shared).
Also runs `explain check` with and without the index.

``workload_sql`` is also the data the explain tests run on (a few heavy users own most tasks).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path


def workload_sql(*, users: int = 1000, heavy_users: int = 3, heavy_tasks: int = 3000, tasks_per_user: int = 30) -> str:
    """Deterministic, realistic-enough data in plain SQL: users, lists, tasks, tags, task_tags."""
    return f"""
INSERT INTO users (email, name, password_hash, theme)
SELECT CASE WHEN i % 7 = 0 THEN 'User' || i || '@Example.com' ELSE 'user' || i || '@example.com' END,
       'User ' || i, '$2b$12$' || repeat('a', 53), (ARRAY['light','dark','system'])[1 + i % 3]
FROM generate_series(1, {users}) AS i;

CREATE TEMP TABLE numbered_users ON COMMIT DROP AS
SELECT id, row_number() OVER (ORDER BY email) AS n FROM users;

INSERT INTO task_lists (user_id, name, position)
SELECT u.id, (ARRAY['Inbox','Work','Home','Someday'])[k], k FROM numbered_users u, generate_series(1, 4) AS k;

INSERT INTO tags (user_id, name)
SELECT u.id, (ARRAY['work','home','Urgent','errands','ideas','health'])[k] FROM numbered_users u, generate_series(1, 6) AS k;

INSERT INTO tasks (user_id, list_id, title, description, status, priority, due_date, completed_at, estimated_hours)
SELECT u.id,
       CASE WHEN (i * 31 + u.n) % 10 < 8 THEN
           (SELECT l.id FROM task_lists l WHERE l.user_id = u.id AND l.position = 1 + (i * 7 + u.n) % 4) END,
       (ARRAY['Write','Review','Call','Buy','Fix','Plan','Email','Clean','Book','Prepare'])[1 + (i * 3 + u.n) % 10] || ' ' ||
       (ARRAY['report','groceries','dentist','invoice','roadmap','budget','garden','slides','tickets','car',
              'presentation','taxes','birthday','kitchen','backup'])[1 + (i * 11 + u.n) % 15],
       CASE WHEN i % 3 <> 0 THEN 'Remember the ' ||
           (ARRAY['meeting','deadline','receipt','contract','appointment','warranty','newsletter'])[1 + (i * 5 + u.n) % 7]
           || ' before the weekend' END,
       s.status,
       (ARRAY['low','medium','high'])[1 + (i * 13 + u.n) % 3],
       CASE WHEN (i * 17 + u.n) % 10 = 0 THEN NULL
            ELSE timestamptz '2026-01-01' + ((i * 7919 + u.n * 104729) % 365) * interval '1 day'
                 + ((i * 13) % 24) * interval '1 hour' END,
       CASE WHEN s.status = 'completed' THEN timestamptz '2026-01-01' + (i % 300) * interval '1 day' END,
       CASE WHEN i % 4 = 0 THEN ((i % 16) + 1) * 0.5 END
FROM numbered_users u
-- Heavy users own heavy_tasks, heavy_tasks - 5%, ...: one of them is clearly the heaviest.
CROSS JOIN LATERAL generate_series(
    1, CASE WHEN u.n <= {heavy_users} THEN {heavy_tasks} - (u.n - 1) * {heavy_tasks // 20} ELSE {tasks_per_user} END) AS i
CROSS JOIN LATERAL (SELECT CASE WHEN (i * 37 + u.n) % 10 < 6 THEN 'pending'
                                WHEN (i * 37 + u.n) % 10 < 9 THEN 'completed' ELSE 'overdue' END AS status) AS s;

INSERT INTO task_tags (task_id, tag_id)
SELECT t.id, g.id
FROM (SELECT id, user_id, row_number() OVER (PARTITION BY user_id ORDER BY id) AS i FROM tasks) AS t
JOIN LATERAL (SELECT id, row_number() OVER (ORDER BY name) AS k FROM tags WHERE tags.user_id = t.user_id) AS g
  ON g.k = 1 + t.i % 6 OR (t.i % 4 = 0 AND g.k = 1 + (t.i + 2) % 6);
"""


def fill(url, **sizes) -> None:
    """Fill a migrated database with ``workload_sql`` and ANALYZE it."""
    import psycopg

    with psycopg.connect(url.url.replace("postgresql+psycopg", "postgresql")) as conn:
        conn.execute(workload_sql(**sizes))
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")


# ---------------------------------------------------------------- the benchmark


def _admin(url, sql: str) -> None:
    import psycopg

    with psycopg.connect(url.url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(sql)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", action="store_true", help="use workload_sql instead of the `load` seed")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--heavy-tasks", type=int, default=20000)
    parser.add_argument("--tasks-per-user", type=int, default=40)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from todoctl.core import explain, migrate
    from todoctl.db import embedded
    from todoctl.db.url import normalise

    root = Path(tempfile.mkdtemp(prefix="todoctl-bench-explain-"))
    server = embedded.start(root / "pgdata")
    try:
        admin = normalise(server.url("postgres"), source="bench")
        name = f"bench_{uuid.uuid4().hex[:8]}"
        _admin(admin, f'CREATE DATABASE "{name}"')
        url = normalise(server.url(name), source="bench")
        migrate.upgrade(url, "head")
        source = "synthetic"
        if not args.synthetic:
            try:
                from todoctl.core import (
                    seed,  # another engineer's module; may not exist yet
                )

                seed.run(url, profile="load")
                _admin(url, "ANALYZE")
                source = "seed profile `load`"
            except Exception as exc:  # noqa: BLE001 - report and fall back
                print(f"(seed load unavailable: {type(exc).__name__}: {exc}; using the synthetic workload)")
        if source == "synthetic":
            fill(url, users=args.users, heavy_tasks=args.heavy_tasks, tasks_per_user=args.tasks_per_user)
        import psycopg

        with psycopg.connect(url.url.replace("postgresql+psycopg", "postgresql")) as conn:
            tasks, users = conn.execute("SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM users)").fetchone()
            heaviest = conn.execute(
                "SELECT count(*) FROM tasks GROUP BY user_id ORDER BY count(*) DESC LIMIT 1"
            ).fetchone()[0]
        print(f"data: {source}; {users:,} users, {tasks:,} tasks, heaviest user {heaviest:,} tasks")
        print(f"server: embedded PostgreSQL; runs per measurement: {args.runs}\n")

        statuses = ("pending", "completed")
        with_index = {s: explain.explain(url, "task-list", params=[f"status={s}"], runs=args.runs) for s in statuses}
        check_with = explain.check(url, runs=3)
        _admin(url, "DROP INDEX ix_tasks_user_status_due")
        without_index = {s: explain.explain(url, "task-list", params=[f"status={s}"], runs=args.runs) for s in statuses}
        check_without = explain.check(url, runs=3)
        _admin(url, "CREATE INDEX ix_tasks_user_status_due ON tasks (user_id, status, due_date, id)")

        from todoctl.render.explain import text_plan

        for status in statuses:
            for title, result in (("with ix_tasks_user_status_due", with_index[status]), ("without it", without_index[status])):
                print(f"task-list status={status} {title}: min {result.min_ms:.3f} ms, median {result.median_ms:.3f} ms")
                print(text_plan(result))
                for finding in result.findings:
                    print(f"  finding [{finding.kind}] {finding.message}; hint: {finding.hint}")
                print()
        for status in statuses:
            ratio = without_index[status].median_ms / with_index[status].median_ms
            print(
                f"task-list status={status}: median {with_index[status].median_ms:.3f} ms with the index, "
                f"{without_index[status].median_ms:.3f} ms without; ratio {ratio:,.0f}x"
            )
        print(f"explain check with the index: {'pass' if check_with.ok else 'FAIL ' + ', '.join(check_with.failed)}")
        for q in check_with.queries:
            print(
                f"  {q.name:15} {q.median_ms:9.3f} ms  read {q.rows_read:8,.0f}  returned {q.rows_returned:6,.0f}  "
                f"sorted {q.rows_sorted:6,.0f}  buffers {q.buffers:7,}  {q.shape}"
            )
        print(f"explain check without it:    {'pass' if check_without.ok else 'FAIL ' + ', '.join(check_without.failed)}")
        for q in check_without.queries:
            for v in q.violations:
                print(f"  {q.name}: {v.message}")
    finally:
        embedded.stop(root / "pgdata")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
