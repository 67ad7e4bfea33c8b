"""CI gates over the migration history: check (pending + drift) and lint (squawk over offline SQL)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import todoctl.core.drift.vocabulary as drift
from todoctl.core.drift.vocabulary import SchemaDifference
from todoctl.core.history import (
    Revision,
    migrations_path,
    script_directory,
    single_head,
)
import todoctl.core.migrate.classify as drift_classify
from todoctl.core.migrate.offline import offline_sql, resolve_range
from todoctl.db.url import DatabaseURL
from todoctl.errors import ExitCode, TodoctlError, usage_error
from todoctl.results import human_only

# ---------------------------------------------------------------- check


@dataclass
class MigrationCheck:
    database: str = human_only()
    current: list[str]
    heads: list[str]
    pending: list[Revision]
    unknown: list[str]
    differences: list[SchemaDifference]
    notes: list[str] = field(default_factory=list)

    __json_properties__ = ("ok", "hints")

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def hints(self) -> dict[str, str]:
        return drift.hints_for(self.differences)


def check(url: DatabaseURL, *, migrations: Path | str | None = None) -> MigrationCheck:
    """Pending or unknown revisions, else the models against a database at head, in drift's words.

    A database that is behind is reported as behind only (its missing columns are pending
    revisions, not drift). At head, a difference from the models is blamed on the models or
    on the live database by replaying the history on a throwaway database, as
    `schema diff --against history` does; a database in sync needs no replay.
    """
    found = drift_classify.classify(url, migrations=migrations, replay=drift_classify.TO_BLAME)
    state = found.status
    return MigrationCheck(
        state.database, state.current, state.heads, state.pending, state.unknown, found.differences, found.notes
    )


# ---------------------------------------------------------------- lint


@dataclass(frozen=True)
class LintFinding:
    revision: str
    rule: str
    line: int  # 1-based: a line of `todoctl migrate sql REV` (squawk's JSON counts from 0)
    statement: str
    message: str
    hint: str | None
    allowed: bool
    reason: str | None


@dataclass
class RevisionLint:
    revision: str
    message: str
    findings: list[LintFinding] = field(default_factory=list)

    __json_properties__ = ("failing",)

    @property
    def failing(self) -> int:
        return sum(1 for f in self.findings if not f.allowed)


@dataclass
class LintReport:
    revisions: list[RevisionLint]
    squawk: str

    __json_properties__ = ("ok",)

    @property
    def ok(self) -> bool:
        return all(r.failing == 0 for r in self.revisions)


def squawk_binary() -> str:
    candidates = [Path(sys.executable).parent / "squawk", shutil.which("squawk")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise TodoctlError(
        "squawk is not installed",
        hint="pip install squawk-cli (it is a dependency of todoctl: reinstall todoctl)",
        exit_code=ExitCode.USAGE,
    )


def _project_allowances(location: Path) -> dict[str, str]:
    path = location / "lint.toml"
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise usage_error(f"malformed {path}: {exc}", "fix the TOML") from None
    shape = 'the file holds one table, [allow], of rule = "reason" (e.g. prefer-text-field = "we cap names")'
    unknown = sorted(set(data) - {"allow"})
    if unknown:
        raise usage_error(f"{path}: unknown key {unknown[0]!r}, so nothing in it would be allowed", shape)
    allow = data.get("allow", {})
    if not isinstance(allow, dict) or not all(isinstance(v, str) for v in allow.values()):
        raise usage_error(f"{path}: [allow] must map each rule to the reason it is allowed", shape)
    return dict(allow)


def _revision_allowances(path: str) -> dict[str, str]:
    spec = importlib.util.spec_from_file_location(f"_todoctl_lint_{Path(path).stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(getattr(module, "lint_allow", {}) or {})


_ALEMBIC_BOOKKEEPING = re.compile(r"alembic_version", re.IGNORECASE)


def _revision_sql(rev, migrations) -> str:
    """One revision's upgrade SQL as `todoctl migrate sql REV` prints it, Alembic's version-table
    statements turned into comments line for line: a finding's line is that output's line."""
    sql = offline_sql(None, rev.revision, migrations=migrations).sql
    parts = re.split(r"(;[ \t]*\n)", sql)
    for i in range(0, len(parts), 2):
        if _ALEMBIC_BOOKKEEPING.search(parts[i]):
            parts[i] = "\n".join("-- alembic_version bookkeeping" for _ in parts[i].split("\n"))
            if i + 1 < len(parts):
                parts[i + 1] = "\n"
    return "".join(parts)


def lint(rev_range: str | None = None, *, migrations=None, pg_version: str = "14") -> LintReport:
    """squawk over each revision's SQL, with the allowances the project and each revision declare."""
    location = migrations_path(migrations)
    script = script_directory(migrations)
    single_head(script)
    lower, upper = "base", "heads"
    if rev_range:
        lower, _, upper = rev_range.partition(":") if ":" in rev_range else (rev_range, ":", "heads")
        resolve_range(None, f"{lower or 'base'}:{upper or 'heads'}", migrations)  # unknown ids: exit 2
    revisions = list(reversed(list(script.iterate_revisions(upper or "heads", lower or "base"))))
    if lower not in ("base", "", None):
        revisions = [r for r in revisions if r.revision != lower]
    binary = squawk_binary()
    project = _project_allowances(location)
    report = LintReport([], binary)
    with tempfile.TemporaryDirectory(prefix="todoctl-lint-") as tmp:
        for rev in revisions:
            sql = _revision_sql(rev, migrations)
            path = Path(tmp) / f"{rev.revision}.sql"
            path.write_text(sql)
            allow = {**project, **_revision_allowances(rev.path)}
            entry = RevisionLint(rev.revision, (rev.doc or "").strip())
            lines = sql.splitlines()
            for item in _run_squawk(binary, path, pg_version):
                rule = item.get("rule_name") or "unknown"
                line = int(item.get("line") or 0)  # squawk's JSON counts lines from 0
                statement = _statement_at(lines, line)
                entry.findings.append(
                    LintFinding(
                        rev.revision,
                        rule,
                        line + 1,
                        statement,
                        item.get("message") or "",
                        item.get("help"),
                        rule in allow,
                        allow.get(rule),
                    )
                )
            report.revisions.append(entry)
    return report


def _run_squawk(binary: str, path: Path, pg_version: str) -> list[dict]:
    result = subprocess.run(
        [binary, "--reporter", "json", f"--pg-version={pg_version}", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode not in (0, 1):
        raise TodoctlError(f"squawk failed on {path.name}: {result.stderr.strip()[:300]}", hint="run squawk by hand")
    try:
        return json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        raise TodoctlError(f"squawk printed no JSON for {path.name}", hint="check the squawk-cli version") from None


def _statement_at(lines: list[str], line: int) -> str:
    """The source line squawk points at (its JSON line numbers count from 0)."""
    if not 0 <= line < len(lines):
        return ""
    return lines[line].strip()[:120]
