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


from todoctl.core.migrate.environment import EnvIgnoresConnection
from todoctl.core.migrate.runner import RunOptions, downgrade, upgrade
from todoctl.core.history import script_directory
import todoctl.core.catalog.snapshot as catalog
from todoctl.core.drift.models import model_drift
from todoctl.db.engine import connection
from todoctl.db.scratch import scratch_database
from todoctl.db.url import DatabaseURL
from todoctl.errors import ExitCode, TodoctlError


@dataclass
class VerifyStep:
    revision: str
    message: str
    up: bool = False
    down_restores: bool = False  # after up + down, the schema equals the one before
    up_again_restores: bool = False  # after down + up, the schema equals the one after
    differences: list[str] = field(default_factory=list)
    error: str | None = None
    hint: str | None = None  # what to do about ``error``
    duration_ms: float = 0.0

    __json_properties__ = ("ok", "status")

    @property
    def ok(self) -> bool:
        return self.up and self.down_restores and self.up_again_restores and not self.error

    @property
    def status(self) -> str:
        return "ok" if self.ok else "fail"


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


# Rows for the data round trip: the app's own seed, drawn from its models (a small count of each
# root table; children follow their parents), so every table and column holds something.
_SAMPLE_ROOT_ROWS = "20"


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
    options = RunOptions(lock_wait=10, drop_rows=True)  # a throwaway database: its rows are ours to drop
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
                if exc.exit_code == ExitCode.INTERRUPTED:
                    raise  # Ctrl-C or SIGTERM: not the revision's failure (the scratch database is still dropped)
                step.error, step.hint = exc.message, exc.hint
            finally:
                step.duration_ms = round((time.perf_counter() - started) * 1000, 3)
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
        import todoctl.core.seed.job as seed_job

        seed_job.run(url, rows=[_SAMPLE_ROOT_ROWS], mode="truncate")
        downgrade(url, "base", migrations=migrations, options=options)
        upgrade(url, "head", migrations=migrations, options=options)
    except TodoctlError as exc:
        if exc.exit_code == ExitCode.INTERRUPTED:
            raise
        return False, exc.message
    except Exception as exc:  # seeding with the current schema failed: report, do not crash
        return False, str(exc).splitlines()[0]
    return True, None
