"""Ad-hoc SQL for `explain sql`, judged by PostgreSQL's own grammar (pglast is libpg_query, the
server's parser) instead of by hand: exactly one statement, of a kind EXPLAIN accepts, and no call
to a built-in function whose effects a rollback cannot undo unless the caller asked for them.

Pure functions: they return data or raise TodoctlError; nothing here connects to a database.
pglast is imported inside functions so `todoctl --help` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from todoctl.errors import ExitCode, TodoctlError, usage_error

ALLOW_OPTION = "--allow-side-effects"

EXAMPLE = 'for example: todoctl explain sql "SELECT count(*) FROM tasks"'

# What EXPLAIN may wrap, by libpg_query node name. A rollback undoes all of their writes.
EXPLAINABLE = {
    "SelectStmt": "SELECT",  # also VALUES and TABLE
    "InsertStmt": "INSERT",
    "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE",
}

# EXPLAIN accepts these too, but they are refused, each for its reason.
REFUSED_EXPLAINABLE = {
    "ExecuteStmt": (
        "EXECUTE runs a prepared statement, which exists only in the session that prepared it",
        "explain the prepared statement's own SQL, with its parameters written in",
    ),
    "DeclareCursorStmt": (
        "DECLARE creates a cursor (session state); its plan is the plan of its query",
        "explain the cursor's SELECT itself",
    ),
    "CreateTableAsStmt": (
        "CREATE TABLE AS / CREATE MATERIALIZED VIEW creates an object",
        "explain its SELECT itself",
    ),
    "ExplainStmt": (
        "the statement is already an EXPLAIN",
        "pass the statement itself; todoctl adds EXPLAIN",
    ),
}


@dataclass(frozen=True)
class FunctionFamily:
    """Built-in functions that act outside the transaction, so a rollback cannot undo them."""

    family: str
    why: str
    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def matches(self, name: str) -> bool:
        return name in self.names or name.startswith(self.prefixes)


# The one table of functions `explain sql` refuses unless --allow-side-effects is given (and never
# on a protected database). Matched on the function's own name whatever its schema or quoting, so
# `pg_catalog."pg_terminate_backend"` is caught; a user function that shares a name is refused too,
# which errs on the safe side.
SIDE_EFFECT_FUNCTIONS: tuple[FunctionFamily, ...] = (
    # Signals another backend: a terminated session or a cancelled query does not come back.
    FunctionFamily(
        "signal other sessions",
        "signals another server process; a rollback does not bring its session or query back",
        frozenset({"pg_terminate_backend", "pg_cancel_backend", "pg_signal_backend", "pg_log_backend_memory_contexts"}),
    ),
    # Acts on the server process itself: reloads configuration, switches log files.
    FunctionFamily(
        "server configuration and logs",
        "acts on the server (configuration reload, log rotation), outside any transaction",
        frozenset({"pg_reload_conf"}),
        ("pg_rotate_logfile",),
    ),
    # Statistics counters are not transactional: a reset is lost history.
    FunctionFamily(
        "statistics resets",
        "resets statistics counters, which are not transactional",
        prefixes=("pg_stat_reset", "pg_stat_statements_reset"),
    ),
    # Slots and origins are created, dropped and advanced outside the transaction; a leftover slot
    # holds WAL on the server until someone drops it.
    FunctionFamily(
        "replication slots and logical decoding",
        "creates, drops, advances or consumes replication slots, or writes WAL messages, outside the transaction",
        frozenset(
            {
                "pg_create_physical_replication_slot",
                "pg_create_logical_replication_slot",
                "pg_copy_physical_replication_slot",
                "pg_copy_logical_replication_slot",
                "pg_drop_replication_slot",
                "pg_replication_slot_advance",
                "pg_sync_replication_slots",
                "pg_logical_emit_message",
                "pg_log_standby_snapshot",
            }
        ),
        ("pg_logical_slot_", "pg_replication_origin_"),
    ),
    # Session-level advisory locks outlive the transaction (the _xact_ variants end with it).
    FunctionFamily(
        "session advisory locks",
        "takes or releases a session-level advisory lock, which a rollback does not release",
        prefixes=("pg_advisory_lock", "pg_advisory_unlock", "pg_try_advisory_lock"),
    ),
    # Reads or writes files on the database server: what was read cannot be unread, what was
    # written stays.
    FunctionFamily(
        "server file access",
        "reads or writes files on the database server, outside any transaction",
        frozenset({"pg_read_file", "pg_read_binary_file", "pg_stat_file", "lo_import", "lo_export", "pg_logdir_ls"}),
        ("pg_ls_", "pg_file_"),
    ),
    # Runs SQL over another connection, which commits on its own.
    FunctionFamily(
        "dblink",
        "runs SQL over another connection, which commits on its own",
        prefixes=("dblink",),
    ),
    # Sequence changes are never rolled back.
    FunctionFamily(
        "sequence changes",
        "advances or sets a sequence, which a rollback never undoes",
        frozenset({"nextval", "setval"}),
    ),
    # WAL, backup and recovery control act on the whole cluster.
    FunctionFamily(
        "WAL, backup and recovery control",
        "acts on the cluster's WAL, backups or recovery, outside any transaction",
        # pg_start_backup/pg_stop_backup: their names up to PostgreSQL 14.
        frozenset({"pg_switch_wal", "pg_create_restore_point", "pg_promote", "pg_start_backup", "pg_stop_backup"}),
        ("pg_backup_", "pg_wal_replay_"),
    ),
)


@dataclass(frozen=True)
class SideEffectCall:
    function: str  # as written, schema included: pg_catalog.pg_terminate_backend
    family: str
    why: str


@dataclass(frozen=True)
class AdhocStatement:
    text: str  # the one statement as written, without a trailing semicolon
    kind: str  # libpg_query node name: SelectStmt, InsertStmt, ...
    side_effects: tuple[SideEffectCall, ...]


def parse_statement(sql: str) -> AdhocStatement:
    """The one statement ``sql`` holds, as PostgreSQL's grammar reads it; usage error (exit 2) if
    it holds none, several, or one EXPLAIN cannot (or todoctl will not) wrap."""
    statements = _parse(sql, what="the statement")
    if not statements:
        raise usage_error("no SQL statement given", EXAMPLE)
    if len(statements) > 1:
        raise usage_error(
            f"{len(statements)} statements given; explain takes exactly one",
            "explain them one at a time (semicolons, quotes and comments are read by PostgreSQL's own parser)",
        )
    raw = statements[0]
    kind = type(raw.stmt).__name__
    _require_explainable(raw.stmt, kind, sql)
    end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(sql)
    text = sql[raw.stmt_location : end].strip()
    return AdhocStatement(text, kind, tuple(side_effect_calls(raw.stmt)))


def check_explain_text(text: str, statement: AdhocStatement) -> None:
    """The second fence: the final ``EXPLAIN (...) statement`` text is one EXPLAIN of the same
    kind of statement, with the same calls, so nothing in the user's text escaped the wrapping."""
    statements = _parse(text, what="the EXPLAIN todoctl built")
    if (
        len(statements) != 1
        or type(statements[0].stmt).__name__ != "ExplainStmt"
        or type(statements[0].stmt.query).__name__ != statement.kind
        or tuple(side_effect_calls(statements[0].stmt.query)) != statement.side_effects
    ):
        raise TodoctlError(
            "the EXPLAIN built around the statement does not parse as one EXPLAIN of it; nothing was run",
            hint="rewrite the statement (e.g. without trailing comments) and report this as a todoctl bug",
            exit_code=ExitCode.REFUSED,
        )


def refuse_side_effects(statement: AdhocStatement, *, allowed: bool, protected: bool, database: str) -> None:
    """Refuse (exit 4) calls a rollback cannot undo: unless ``allowed``, and always when ``protected``."""
    if not statement.side_effects or (allowed and not protected):
        return
    first = statement.side_effects[0]
    names = ", ".join(sorted({c.function for c in statement.side_effects}))
    if protected:
        raise TodoctlError(
            f"{database} is a protected production database: refusing to run {names}, which {first.why}",
            hint=f"{ALLOW_OPTION} is never allowed on a protected database; explain the statement on a copy of it",
            exit_code=ExitCode.REFUSED,
        )
    raise TodoctlError(
        f"refusing to run {names}: it {first.why} ({first.family})",
        hint=f"pass {ALLOW_OPTION} if you mean it (never allowed on a protected database)",
        exit_code=ExitCode.REFUSED,
    )


def side_effect_calls(node) -> list[SideEffectCall]:
    """Every call, anywhere in the tree, to a function in SIDE_EFFECT_FUNCTIONS."""
    from pglast import ast
    from pglast.visitors import Visitor

    found: list[SideEffectCall] = []

    class Calls(Visitor):
        def visit_FuncCall(self, ancestors, call: ast.FuncCall) -> None:
            parts = [p.sval for p in call.funcname]
            name = parts[-1].lower()
            for family in SIDE_EFFECT_FUNCTIONS:
                if family.matches(name):
                    found.append(SideEffectCall(".".join(parts), family.family, family.why))
                    break

    Calls()(node)
    return found


def _parse(sql: str, *, what: str):
    from pglast import parse_sql
    from pglast.parser import ParseError

    if "\x00" in sql:
        # libpg_query and libpq both read C strings: text after a NUL would be seen by neither.
        raise usage_error(f"{what} contains a NUL character", "remove it")
    try:
        return parse_sql(sql)
    except ParseError as exc:
        raise usage_error(f"{what} is not valid SQL: {exc}", "check the SQL; it is read by PostgreSQL's own parser") from None
    except RecursionError:
        raise usage_error(f"{what} is nested too deeply to check", "simplify the statement") from None


def _require_explainable(stmt, kind: str, sql: str) -> None:
    if kind in EXPLAINABLE:
        if kind == "SelectStmt" and stmt.intoClause is not None:
            raise usage_error(
                "SELECT INTO creates a table; explain takes a statement EXPLAIN can run and roll back",
                "drop the INTO clause and explain the SELECT",
            )
        return
    if kind in REFUSED_EXPLAINABLE:
        message, hint = REFUSED_EXPLAINABLE[kind]
        raise usage_error(f"cannot explain that statement: {message}", hint)
    label = _leading_keywords(sql)
    if kind == "TransactionStmt":
        message = f"{label} is transaction control; todoctl runs the statement in its own transaction and rolls it back"
    elif kind in ("VariableSetStmt", "VariableShowStmt"):
        message = f"{label} is a session setting, not a statement EXPLAIN accepts"
    else:
        message = f"{label} is a utility statement, not one EXPLAIN accepts"
    raise usage_error(message, "explain takes one SELECT, VALUES, TABLE, INSERT, UPDATE, DELETE or MERGE")


def _leading_keywords(sql: str) -> str:
    """The statement's first keyword (two for CREATE/ALTER/DROP ...), from PostgreSQL's own scanner."""
    from pglast.parser import scan

    # Token names are the grammar's: keywords that clash with C macros carry a _P suffix (BEGIN_P).
    words = [t.name.removesuffix("_P") for t in scan(sql) if t.name not in ("C_COMMENT", "SQL_COMMENT")]
    if not words:
        return "the statement"
    first = words[0]
    if first in ("CREATE", "ALTER", "DROP", "COMMENT", "SECURITY") and len(words) > 1 and words[1] not in ("IDENT",):
        return f"{first} {words[1]}"
    return first if first.isalpha() else "the statement"
