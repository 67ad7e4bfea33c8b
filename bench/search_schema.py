"""Stored tsvector column (revision 0007) against an expression GIN index (revision 0008), in one run.

    .venv/bin/python bench/search_schema.py            # about 3 minutes on 2 busy cores

For each schema, on a fresh database seeded with the `load` profile (the very same rows, equal
fingerprints): the seed's time, single-row INSERT and UPDATE cost (median of many, each its own
transaction), task-search for a typical user (median task count) and the heaviest one (median
execution time of EXPLAIN ANALYZE), and heap and index sizes. The two schemas are measured
interleaved where it matters (the single-row and search figures), so machine load hits both alike.

Uses TODOCTL_BENCH_DATABASE_URL, else an embedded server in a temporary directory (as bench/seed.py).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

from seed import Server, cpu_loop, emit  # noqa: E402

COLUMN, EXPRESSION = "stored column (0007)", "expression index (0008)"
DOCUMENT = {
    COLUMN: "search_vector",
    EXPRESSION: "(setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B'))",
}
SEARCH = "SELECT t.*, ts_rank({doc}, q) AS rank FROM tasks t, websearch_to_tsquery('english'::regconfig, %s) q WHERE t.user_id = %s AND {doc} @@ q ORDER BY rank DESC, t.id LIMIT 50"


def connect(url):
    import psycopg

    return psycopg.connect(url.url.replace("postgresql+psycopg", "postgresql"), autocommit=True)


def users(conn) -> dict[str, tuple]:
    """The heaviest user and a typical one (median task count), each with a search term picked
    as task-search's default does (the longest word of the user's latest title)."""
    counts = conn.execute("SELECT user_id, count(*) n FROM tasks GROUP BY user_id ORDER BY n DESC, user_id").fetchall()
    picked = {"heaviest": counts[0], "typical": counts[len(counts) // 2]}
    out = {}
    for who, (user_id, n) in picked.items():
        title = conn.execute(
            "SELECT title FROM tasks WHERE user_id = %s ORDER BY created_at DESC, id LIMIT 1", (user_id,)
        ).fetchone()[0]
        words = sorted(("".join(c for c in w if c.isalnum()) for w in title.split()), key=len, reverse=True)
        out[who] = (user_id, n, words[0])
    return out


def search_ms(conn, variant: str, user_id, term: str) -> tuple[float, str]:
    import json

    sql = "EXPLAIN (ANALYZE, FORMAT JSON) " + SEARCH.format(doc=DOCUMENT[variant])
    plan = conn.execute(sql, (term, user_id)).fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    top = plan[0]

    def shape(node) -> str:
        inner = ", ".join(shape(c) for c in node.get("Plans", []))
        name = node["Node Type"] + (f"[{node['Index Name']}]" if "Index Name" in node else "")
        return f"{name}({inner})" if inner else name

    return top["Execution Time"], shape(top["Plan"])


def single_row_ms(conn, user_id, runs: int) -> dict[str, float]:
    """Median ms of one-row statements, each its own transaction (autocommit)."""
    times: dict[str, list[float]] = {"insert": [], "update title": [], "update priority": []}
    ids = []
    for i in range(runs):
        t0 = time.perf_counter()
        row = conn.execute(
            "INSERT INTO tasks (user_id, title, description) VALUES (%s, %s, %s) RETURNING id",
            (user_id, f"Renew the passport before the trip number {i}", "Book an appointment and bring two photos"),
        ).fetchone()
        times["insert"].append(time.perf_counter() - t0)
        ids.append(row[0])
    for i, task_id in enumerate(ids):
        t0 = time.perf_counter()
        conn.execute("UPDATE tasks SET title = %s WHERE id = %s", (f"Call the plumber about the leak {i}", task_id))
        times["update title"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        conn.execute("UPDATE tasks SET priority = 'high' WHERE id = %s", (task_id,))
        times["update priority"].append(time.perf_counter() - t0)
    conn.execute("DELETE FROM tasks WHERE id = ANY(%s)", (ids,))
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


def sizes(conn) -> dict[str, int]:
    heap, toast, indexes, search = conn.execute(
        "SELECT pg_relation_size('tasks'), coalesce(pg_total_relation_size(reltoastrelid), 0), "
        "pg_indexes_size('tasks'), pg_relation_size('ix_tasks_search') FROM pg_class WHERE oid = 'tasks'::regclass"
    ).fetchone()
    return {"heap": heap, "toast": toast, "indexes": indexes, "search index": search}


def main() -> None:
    from todoctl.core import migrate
    from todoctl.core import seed
    from todoctl.core.seed import job
    from todoctl.core.safety.revision_gate import require_head

    runs = int(os.environ.get("BENCH_RUNS", "200"))
    server = Server()
    made = []
    try:
        emit(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `bench/search_schema.py`")
        emit(f"- machine load: Python loop {cpu_loop():.2f} s, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        urls, seeded = {}, {}
        for variant in (COLUMN, EXPRESSION):
            name = server.create()
            made.append(name)
            urls[variant] = server.url_for(name)
            migrate.upgrade(urls[variant], "head")
        migrate.downgrade(urls[COLUMN], "0007")  # 0008's downgrade brings the stored column back
        for variant in (COLUMN, EXPRESSION):
            # The seed refuses a database behind head; the 0007 one is behind on purpose.
            job.require_head = (lambda *a, **k: None) if variant == COLUMN else require_head
            seeded[variant] = seed.run(urls[variant], profile="load")
        job.require_head = require_head
        same = seeded[COLUMN].fingerprint == seeded[EXPRESSION].fingerprint
        conns = {v: connect(urls[v]) for v in urls}
        for c in conns.values():
            c.execute("VACUUM (ANALYZE) tasks")
        picked = users(conns[COLUMN])
        single = {v: single_row_ms(conns[v], picked["typical"][0], runs) for v in conns}  # warm-up pass
        single = {v: single_row_ms(conns[v], picked["typical"][0], runs) for v in conns}
        search: dict[str, dict[str, list]] = {v: {w: [] for w in picked} for v in conns}
        plans: dict[str, dict[str, str]] = {v: {} for v in conns}
        for _ in range(15):
            for v, c in conns.items():
                for who, (user_id, _n, term) in picked.items():
                    ms, plans[v][who] = search_ms(c, v, user_id, term)
                    search[v][who].append(ms)
        size = {v: sizes(c) for v, c in conns.items()}
        for c in conns.values():
            c.close()

        def mb(n: int) -> str:
            return f"{n / 2**20:,.0f} MB"

        emit("", f"rows: {seeded[COLUMN].rows:,} in both (same fingerprint: {same}); "
             + "; ".join(f"{who}: {n:,} tasks, term {term!r}" for who, (_u, n, term) in picked.items()), "")
        emit(f"| | {COLUMN} | {EXPRESSION} |", "|---|---|---|")
        emit(f"| `seed --profile load` (in-process) | {seeded[COLUMN].duration_ms / 1000:.2f} s | {seeded[EXPRESSION].duration_ms / 1000:.2f} s |")
        tasks_copy = {v: next(t.duration_ms / 1000 for t in r.tables if t.table == "tasks") for v, r in seeded.items()}
        emit(f"| of which COPY tasks | {tasks_copy[COLUMN]:.2f} s | {tasks_copy[EXPRESSION]:.2f} s |")
        idx = {v: r.phases_ms.get("indexes", 0.0) / 1000 for v, r in seeded.items()}
        emit(f"| of which index rebuild | {idx[COLUMN]:.2f} s | {idx[EXPRESSION]:.2f} s |")
        for k in single[COLUMN]:
            emit(f"| single-row {k} (median of {runs}) | {single[COLUMN][k]:.3f} ms | {single[EXPRESSION][k]:.3f} ms |")
        for who in picked:
            emit(f"| task-search, {who} user (median of 15) | {statistics.median(search[COLUMN][who]):.2f} ms | "
                 f"{statistics.median(search[EXPRESSION][who]):.2f} ms |")
        for k in size[COLUMN]:
            emit(f"| tasks {k} | {mb(size[COLUMN][k])} | {mb(size[EXPRESSION][k])} |")
        emit("")
        for v in plans:
            for who, shape in plans[v].items():
                emit(f"- plan, {v}, {who}: {shape}")
        emit(f"- machine load at end: Python loop {cpu_loop():.2f} s, load average {os.getloadavg()[0]:.1f}")
    finally:
        for name in made:
            server.drop(name)
        server.close()


if __name__ == "__main__":
    main()
