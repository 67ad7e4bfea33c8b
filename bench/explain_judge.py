"""What the default-deny judge of `explain sql` costs, against the EXPLAIN it guards (same run).

    python bench/explain_judge.py              # embedded server, a scratch database
    python bench/explain_judge.py --runs 50

For a few statements of growing reach (a bare SELECT, calls and operators, a view, an INSERT
with defaults, casts), measures on one connection, median of --runs, warm catalog cache:

- judge: core/explain/harmless.py resolving everything the statement can run (its own READ ONLY
  transaction, rolled back), the cost every `explain sql` now pays before planning;
- explain: the EXPLAIN (FORMAT JSON, no ANALYZE) of the same statement, in its transaction;
- whole: `explain_sql(..., analyze=False)` end to end, connection included.

No absolute targets (the machine is shared): the figure is the judge's share of the whole.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

STATEMENTS = {
    "bare SELECT": "SELECT 1",
    "calls and operators": "SELECT lower(title), count(*) FROM tasks WHERE status IN ('pending', 'completed') "
    "AND title LIKE 'a%' GROUP BY 1 ORDER BY 2 DESC",
    "a view": "SELECT count(*) FROM bench_view",
    "INSERT (defaults)": "INSERT INTO tags (user_id, name) SELECT id, 'x' FROM users",
    "casts": "SELECT '1'::int, 'x'::varchar(3), now()::date, '{}'::jsonb",
}


def _median_ms(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import psycopg

    from todoctl.core import migrate
    from todoctl.core.explain import adhoc, harmless
    from todoctl.core.explain.execute import explain_sql
    from todoctl.core.explain.transaction import _explain_sql, _rollback, begin, execute_one
    from todoctl.db import embedded
    from todoctl.db.url import normalise

    root = Path(tempfile.mkdtemp(prefix="todoctl-bench-judge-"))
    server = embedded.start(root / "pgdata")
    try:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server.libpq_url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = normalise(server.url(name), source="bench")
        migrate.upgrade(url, "head")
        with psycopg.connect(url.libpq, autocommit=True) as conn:
            conn.execute("CREATE VIEW bench_view AS SELECT id, lower(title) AS t FROM tasks WHERE status = 'pending'")
        print(f"server: embedded PostgreSQL; median of {args.runs} runs, warm\n")
        print(f"{'statement':<22} {'judge':>9} {'explain':>9} {'whole':>9}  judge/whole")
        with psycopg.connect(url.libpq) as raw:
            for label, sql in STATEMENTS.items():
                statement = adhoc.parse_statement(sql)

                def judge():
                    with raw.cursor() as cur:
                        begin(cur, "10s", read_only=True)
                        assert harmless.refusals(cur, statement.reach) == []
                    _rollback(raw)

                def explain():
                    with raw.cursor() as cur:
                        begin(cur, "10s", read_only=True)
                        execute_one(cur, _explain_sql(statement.text, False))
                    _rollback(raw)

                judged, explained = _median_ms(judge, args.runs), _median_ms(explain, args.runs)
                whole = _median_ms(lambda: explain_sql(url, sql, analyze=False), args.runs)
                print(f"{label:<22} {judged:>7.2f}ms {explained:>7.2f}ms {whole:>7.2f}ms  {judged / whole:>6.0%}")
    finally:
        embedded.stop(root / "pgdata")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
