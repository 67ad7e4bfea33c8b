"""`migrate verify`: prove the history on a throwaway database before it reaches a real one.

Exactly one head; base -> head one revision at a time, and at every step down and up again
with the schema compared (tables, columns, types, defaults, indexes, constraints); at head
the models match the database; with rows present at head, down to base and back up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import text

from todoctl.core.migrate.environment import EnvIgnoresConnection
from todoctl.core.migrate.runner import RunOptions, downgrade, upgrade
from todoctl.core.migrate.scripts import script_directory
from todoctl.core.shared import catalog
from todoctl.core.shared.drift_models import model_drift
from todoctl.db.engine import connection
from todoctl.db.scratch import scratch_database
from todoctl.db.url import DatabaseURL
from todoctl.errors import TodoctlError


@dataclass
class VerifyStep:
    revision: str
    message: str
    up: bool = False
    down_restores: bool = False  # after up + down, the schema equals the one before
    up_again_restores: bool = False  # after down + up, the schema equals the one after
    differences: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    __json_properties__ = ("ok",)

    @property
    def ok(self) -> bool:
        return self.up and self.down_restores and self.up_again_restores and not self.error


@dataclass
class VerifyReport:
    heads: list[str]
    steps: list[VerifyStep]
    model_drift: list[str]
    data_round_trip: bool | None
    data_error: str | None = None

    __json_properties__ = ("ok",)

    @property
    def ok(self) -> bool:
        return (
            len(self.heads) == 1
            and all(s.ok for s in self.steps)
            and not self.model_drift
            and self.data_round_trip is True
        )


def _snap(url: DatabaseURL) -> catalog.SchemaSnapshot:
    with connection(url) as conn:
        snap = catalog.snapshot(conn)
        conn.rollback()
        return snap


_SAMPLE_ROWS = """
INSERT INTO users (id, email, name, password_hash, theme) VALUES
  ('00000000-0000-4000-8000-00000000000a', 'ada@example.com', 'Ada', '$2b$12$' || repeat('a', 53), 'dark'),
  ('00000000-0000-4000-8000-00000000000b', 'bob@example.com', NULL, '$2b$12$' || repeat('b', 53), 'system');
INSERT INTO task_lists (id, user_id, name, position) VALUES
  ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'Inbox', 0);
INSERT INTO tags (id, user_id, name) VALUES
  ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000000a', 'home');
INSERT INTO tasks (id, user_id, list_id, title, description, status, priority, due_date, completed_at, estimated_hours)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       CASE WHEN g % 3 = 0 THEN '00000000-0000-4000-8000-00000000000b'::uuid
            ELSE '00000000-0000-4000-8000-00000000000a'::uuid END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE '00000000-0000-4000-8000-0000000000a1'::uuid END,
       'Task ' || g, 'Description of task ' || g,
       CASE WHEN g % 4 = 0 THEN 'completed' WHEN g % 4 = 1 THEN 'overdue' ELSE 'pending' END,
       (ARRAY['low', 'medium', 'high'])[1 + g % 3],
       TIMESTAMPTZ '2026-06-01' + g * INTERVAL '1 day',
       CASE WHEN g % 4 = 0 THEN TIMESTAMPTZ '2026-05-01' END,
       1.5
FROM generate_series(1, 200) AS g;
INSERT INTO task_tags (task_id, tag_id)
SELECT id, '00000000-0000-4000-8000-0000000000b1'::uuid FROM tasks WHERE user_id = '00000000-0000-4000-8000-00000000000a';
"""


def verify(
    url: DatabaseURL, *, migrations: Path | str | None = None, on_step: Callable[[int, int, str], None] | None = None
) -> VerifyReport:
    """Run every check on a throwaway database next to ``url``'s (created and dropped here).

    ``on_step(done, total, what)`` is told after each revision and the data round trip (for a
    progress bar; core never prints)."""
    script = script_directory(migrations)
    heads = list(script.get_heads())
    report = VerifyReport(heads, [], [], None)
    if len(heads) != 1:
        return report
    revisions = list(reversed(list(script.walk_revisions())))
    total = len(revisions) + 1  # each revision, then the round trip with rows
    tell = on_step or (lambda done, total, what: None)
    options = RunOptions(lock_wait=10)
    with scratch_database(url, "verify") as scratch:
        for rev in revisions:
            step = VerifyStep(rev.revision, (rev.doc or "").strip().splitlines()[0])
            report.steps.append(step)
            started = time.perf_counter()
            try:
                before = _snap(scratch)
                upgrade(scratch, rev.revision, migrations=migrations, options=options)
                step.up = True
                after = _snap(scratch)
                downgrade(scratch, "-1", migrations=migrations, options=options)
                down_diff = catalog.differences(before, _snap(scratch))
                step.down_restores = not down_diff
                step.differences = [f"after down: {d}" for d in down_diff]
                upgrade(scratch, rev.revision, migrations=migrations, options=options)
                up_diff = catalog.differences(after, _snap(scratch))
                step.up_again_restores = not up_diff
                step.differences += [f"after up again: {d}" for d in up_diff]
            except EnvIgnoresConnection:
                raise  # nothing ran on the throwaway database: a refusal, not a failed step
            except TodoctlError as exc:
                step.error = exc.message
            finally:
                step.seconds = round(time.perf_counter() - started, 3)
            if step.error:
                return report
            tell(len(report.steps), total, f"revision {rev.revision}")
        with connection(scratch) as conn:
            report.model_drift = [d.message for d in model_drift(conn)]
        report.data_round_trip, report.data_error = _data_round_trip(scratch, migrations, options)
        tell(total, total, "rows down to base and up again")
    return report


def _data_round_trip(url: DatabaseURL, migrations, options: RunOptions) -> tuple[bool, str | None]:
    try:
        with connection(url) as conn:
            conn.execute(text(_SAMPLE_ROWS))
            conn.commit()
        downgrade(url, "base", migrations=migrations, options=options)
        upgrade(url, "head", migrations=migrations, options=options)
    except TodoctlError as exc:
        return False, exc.message
    except Exception as exc:  # seeding with the current schema failed: report, do not crash
        return False, str(exc).splitlines()[0]
    return True, None
