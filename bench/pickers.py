"""What the declarative parameter pickers cost on the second app (tests/apps/shelf), against a full
count of the same table in the same run: a picker that reads more than a table scan's worth is a
picker to rethink. Two sizes (shelf filled with plain SQL, tests/shelf_data.py).

Usage: python bench/pickers.py [--runs N] [--scale 1 5]

Starts its own embedded server in a temporary directory and stops it (pg_ctl, by its data dir).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--scale", type=int, nargs="+", default=[1, 5])
    args = parser.parse_args()

    from sqlalchemy import create_engine, func, select

    from tests import shelf_data
    from tests.conftest import Server
    from todoctl import project
    from todoctl.core import migrate
    from todoctl.db import embedded
    from todoctl.named_queries import Picker, heaviest, recent, typical

    root = Path(tempfile.mkdtemp(prefix="todoctl-bench-pickers-"))
    server = embedded.start(root / "pgdata")
    try:
        pg = Server(server.url("postgres"))
        shelf = project.from_directory(REPO / "tests" / "apps" / "shelf")
        shelf.import_path()
        from shelf.models import Book, Loan

        pickers = {
            "heaviest(Loan.user_id)": (heaviest(Loan.user_id), Loan.__table__),
            "typical(Book.keywords)": (typical(Book.keywords), Book.__table__),
            "typical(Book.title)": (typical(Book.title), Book.__table__),
            "recent(Loan.borrowed_at)": (recent(Loan.borrowed_at), Loan.__table__),
        }
        for scale in args.scale:
            name = pg.create_database()
            with project.use(shelf):
                migrate.upgrade(pg.url_for(name), "head")
            shelf_data.fill(pg, name, readers=2_000 * scale, books=20_000 * scale, loans=60_000 * scale)
            engine = create_engine(pg.url_for(name).url)
            print(f"scale {scale}: {2_000 * scale:,} readers, {20_000 * scale:,} books, {60_000 * scale:,} loans")
            with engine.connect() as conn:
                for label, (pick, table) in pickers.items():
                    picked, base = [], []
                    for _ in range(args.runs):
                        start = time.perf_counter()
                        pick(Picker(conn), {})  # a fresh Picker: nothing memoised
                        picked.append(time.perf_counter() - start)
                        start = time.perf_counter()
                        conn.execute(select(func.count()).select_from(table)).scalar()
                        base.append(time.perf_counter() - start)
                    mp, mb = statistics.median(picked) * 1000, statistics.median(base) * 1000
                    print(f"  {label:26} median {mp:8.2f} ms   count(*) {table.name:5} {mb:7.2f} ms   ratio {mp / mb:5.2f}x")
                conn.rollback()
            engine.dispose()
            pg.drop_database(name)
    finally:
        embedded.stop(root / "pgdata")
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
