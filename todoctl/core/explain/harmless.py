"""Which functions an ad-hoc statement may run: default-deny, decided from the server's catalog.

A statement may call only functions proven harmless (``verdict``): built-in (created by initdb,
oid below FirstNormalObjectId, in pg_catalog), IMMUTABLE or STABLE, and not in DENIED (built-ins
that run SQL given as text, or act outside the transaction, whatever their volatility). A few
VOLATILE built-ins that only compute a value (random, clock_timestamp, gen_random_uuid, pg_sleep
...) are allowed by name, in PURE_VOLATILE. Everything else is refused: every user-defined or
extension function whatever its declared volatility (an IMMUTABLE one is even run by the planner,
with --no-analyze), every VOLATILE built-in, every name the catalog does not know.

What counts as "the functions the statement calls" is everything that can run one:

- calls by name, overloads included: every candidate PostgreSQL's resolution could pick (same
  name, an argument count it accepts, a schema on the search path the statement runs with, or
  the one it names) must be harmless, so which overload wins does not matter;
- ``t.f`` (attribute notation: ``f(t)``) and TABLESAMPLE methods, resolved the same way;
- operators, written or implied (IN, BETWEEN, LIKE, CASE x WHEN, JOIN USING...), by pg_operator's
  ``oprcode``, every candidate of the name;
- the relations it names (every one of the name on its path), and what they lead to: a view's
  query, rules and row-level security policies (read as the SQL the server deparses, by the same
  parser, judged by the same rule), column defaults when the statement inserts, partitions, a
  foreign table's wrapper, a table's access method;
- the types it casts to or declares (with their base, element and field types): their input
  functions, their domain CHECK constraints, cast functions to them from a built-in type, and every
  cast from a type in play (named, or a column or row type of a relation it reads), whatever its
  context: JSON built-ins call a type's explicit-only cast to json.

Not followed: the ordering and equality operators a type's default operator class brings to
ORDER BY, GROUP BY and DISTINCT (a user-defined base type needs C functions, so a superuser).
The judge reads only the catalog, in a READ ONLY transaction, with its own search path set to
``pg_catalog, pg_temp``: no schema on the statement's path can stand in for what it reads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from todoctl.core.explain.adhoc import Reach
from todoctl.core.explain.harmless_catalog import (
    CALL_CANDIDATES,
    CASTS,
    CHILDREN,
    COLUMN_TYPES,
    DOMAIN_CHECKS,
    FIRST_NORMAL_OBJECT_ID,
    OPERATOR_CANDIDATES,
    RELATION_HANDLERS,
    RELATION_OIDS,
    RELATION_TEXTS,
    TYPE_CLOSURE,
    TYPE_FUNCTIONS,
    TYPE_IO_BY_OID,
    TYPE_IO_WHY,
    TYPE_OIDS,
)
from todoctl.errors import ExitCode, TodoctlError

ALLOW_OPTION = "--allow-side-effects"


@dataclass(frozen=True)
class Family:
    """Built-ins refused whatever their volatility, and why."""

    why: str
    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    signatures: frozenset[str] = frozenset()  # name(identity arguments), for one overload only

    def matches(self, name: str, arguments: str) -> bool:
        return (
            name in self.names
            or name.startswith(self.prefixes)
            or any(part in name for part in self.contains)
            or f"{name}({arguments})" in self.signatures
        )


# Built-in functions refused even when the catalog calls them IMMUTABLE or STABLE. Many are
# VOLATILE too (the volatility rule would refuse them); they are named here for the reason the
# error gives. This list only narrows what the default-deny rule allows: nothing is allowed
# because it is missing from it.
DENIED: tuple[Family, ...] = (
    Family(
        "runs SQL given as text (or reads a whole table, schema or database), beyond what the plan shows",
        contains=("_to_xml",),  # query_/cursor_/table_/schema_/database_to_xml[schema|_and_xmlschema]
        names=frozenset({"ts_stat"}),
        signatures=frozenset({"ts_rewrite(query tsquery, select text)", "ts_rewrite(tsquery, text)"}),
    ),
    Family(
        "runs a type's input function and domain checks named as text",
        names=frozenset({"pg_input_is_valid", "pg_input_error_info"}),
    ),
    Family("runs SQL over another connection, which commits on its own", prefixes=("dblink",)),
    Family(
        "takes or releases an advisory lock, which blocks other sessions (the migration lock is one)",
        prefixes=("pg_advisory_", "pg_try_advisory_"),
    ),
    Family("changes a sequence, which a rollback never undoes", names=frozenset({"nextval", "setval", "currval", "lastval"})),
    Family("changes a setting of the session", names=frozenset({"set_config", "setseed"})),
    Family(
        "assigns a transaction id, or reads another transaction's state",
        prefixes=("txid_", "pg_current_xact_id", "pg_xact_"),
    ),
    Family("sends a notification or a message outside the transaction", names=frozenset({"pg_notify", "pg_logical_emit_message"})),
    Family("reads or writes large objects or server files", prefixes=("lo_", "pg_read_", "pg_ls_", "pg_file_"),
           names=frozenset({"pg_stat_file", "loread", "lowrite"})),
    Family(
        "administers the server: signals sessions, reloads configuration, resets statistics, "
        "replication slots and origins, WAL, backups, recovery",
        prefixes=(
            "pg_terminate_", "pg_cancel_", "pg_signal_", "pg_reload_", "pg_rotate_", "pg_stat_reset", "pg_stat_clear",
            "pg_stat_force", "pg_create_", "pg_copy_", "pg_drop_", "pg_replication_", "pg_logical_", "pg_sync_",
            "pg_switch_", "pg_backup_", "pg_start_backup", "pg_stop_backup", "pg_wal_replay_", "pg_promote",
            "pg_log_", "pg_import_", "pg_restore_", "pg_clear_", "pg_export_", "binary_upgrade_",
        ),
    ),
)

# VOLATILE built-ins that only compute a value in the server's own memory: allowed by name.
PURE_VOLATILE = {
    "random": "a random number",
    "random_normal": "a random number",
    "array_shuffle": "a random permutation",
    "array_sample": "a random sample",
    "gen_random_uuid": "a random UUID",
    "uuidv4": "a random UUID",
    "uuidv7": "a time-ordered UUID",
    "clock_timestamp": "the current time",
    "timeofday": "the current time",
    "heap_tableam_handler": "the heap table access method's handler",
    "bernoulli": "TABLESAMPLE BERNOULLI's method",
    "system": "TABLESAMPLE SYSTEM's method",
    "pg_sleep": "a wait, bounded by the statement timeout",
    "pg_sleep_for": "a wait, bounded by the statement timeout",
    "pg_sleep_until": "a wait, bounded by the statement timeout",
    "pg_relation_size": "a size read from the file system",
    "pg_table_size": "a size read from the file system",
    "pg_indexes_size": "a size read from the file system",
    "pg_total_relation_size": "a size read from the file system",
    "pg_database_size": "a size read from the file system",
    "pg_tablespace_size": "a size read from the file system",
}

_VOLATILITY = {"i": "IMMUTABLE", "s": "STABLE", "v": "VOLATILE"}


@dataclass(frozen=True)
class Routine:
    """One pg_proc row, as much of it as the verdict needs."""

    oid: int
    schema: str
    name: str
    arguments: str  # pg_get_function_identity_arguments
    volatility: str  # i | s | v
    language: str
    security_definer: bool

    @property
    def signature(self) -> str:
        return f"{_ident(self.schema)}.{_ident(self.name)}({self.arguments})"


def _ident(name: str) -> str:
    """A name as SQL writes it: quoted unless it reads the same unquoted."""
    if name.isidentifier() and name == name.lower() and name.isascii():
        return name
    return '"' + name.replace('"', '""') + '"'


def verdict(routine: Routine) -> str | None:
    """Why ``routine`` is not proven harmless, or None when it is: the one rule, in one place."""
    volatility = _VOLATILITY.get(routine.volatility, routine.volatility)
    if routine.oid >= FIRST_NORMAL_OBJECT_ID or routine.schema != "pg_catalog":
        definer = ", SECURITY DEFINER" if routine.security_definer else ""
        return f"it is not built into PostgreSQL ({routine.language} function, declared {volatility}{definer}), so it can do anything"
    for family in DENIED:
        if family.matches(routine.name, routine.arguments):
            return f"it {family.why}"
    if routine.volatility == "v" and routine.name not in PURE_VOLATILE:
        return "it is VOLATILE: its effects may outlive the rollback"
    return None


@dataclass(frozen=True)
class Refusal:
    """A function the statement may run that is not proven harmless (or a name nobody can resolve)."""

    function: str  # schema.name(arguments), or the name as written when it resolves to nothing
    why: str
    reached: str  # how the statement reaches it: "called", "operator ===", "view public.v" ...

    def describe(self) -> str:
        return f"{self.function} ({self.reached}): {self.why}"

    def as_dict(self) -> dict:
        return {"function": self.function, "why": self.why, "reached": self.reached}


# ------------------------------------------------------------------------------ the catalog


def _routine(row) -> Routine:
    oid, schema, name, arguments, volatility, language, definer = row
    return Routine(int(oid), schema, name, arguments, volatility, language, bool(definer))


class _Judge:
    """Walks everything a statement can make the server run, from its Reach down through the
    relations and types it names (each visited once), collecting what is not proven harmless."""

    def __init__(self, cur, path: list[str]) -> None:
        self.cur = cur
        self.path = path
        self.found: dict[tuple[str, str], Refusal] = {}
        self.relations: set[int] = set()
        self.types: set[int] = set()  # named by the statement (or what it reaches), with their closure
        self.column_types: set[int] = set()  # of the relations it reads
        self.judged_types: set[int] = set()  # types whose functions and CHECKs were judged

    def refuse(self, function: str, why: str, reached: str) -> None:
        self.found.setdefault((function, reached), Refusal(function, why, reached))

    def judge(self, routine: Routine, how: str, via: str) -> None:
        why = verdict(routine)
        if why is not None:
            self.refuse(routine.signature, why, f"{how}, in {via}")

    def rows(self, sql: str, params: dict):
        self.cur.execute(sql, {"path": self.path, **params})
        return self.cur.fetchall()

    def reach(self, reach: Reach, via: str, *, writes: bool = False) -> None:
        writes = writes or reach.writes
        if reach.calls:
            self._calls(reach.calls, via)
        if reach.operators:
            operators = list(reach.operators)
            rows = self.rows(OPERATOR_CANDIDATES, {**_names(o.name for o in operators), "prefix": [o.prefix for o in operators]})
            for _i, _name, signature, *columns in rows:
                self.judge(_routine(columns), f"operator {signature}", via)
        if reach.types:
            oids = [row[0] for row in self.rows(TYPE_OIDS, _names(reach.types))]
            oids = [row[0] for row in self.rows(TYPE_CLOSURE, {"types": oids})]
            self._types([oid for oid in oids if oid not in self.types])
        if reach.relations:
            oids = [row[0] for row in self.rows(RELATION_OIDS, _names(reach.relations))]
            self._relations(oids, writes)

    def casts(self) -> None:
        """Once everything is reached: the cast functions the named types and the types in play allow."""
        if not self.types and not self.column_types:
            return
        in_play = [row[0] for row in self.rows(TYPE_CLOSURE, {"types": sorted(self.types | self.column_types)})]
        for what, *columns in self.rows(CASTS, {"named": sorted(self.types), "in_play": in_play}):
            self.judge(_routine(columns), what, "the statement")

    def _calls(self, calls, via: str) -> None:
        calls = list(calls)
        rows = self.rows(CALL_CANDIDATES, {**_names(c.name for c in calls), "arities": [c.arity for c in calls]})
        resolved: set[int] = set()
        for i, *columns in rows:
            if columns[0] is None:
                continue
            resolved.add(i)
            routine = _routine(columns)
            if routine.oid in self.type_io_by_oid:
                self.refuse(routine.signature, TYPE_IO_WHY, f"{_how(calls[i - 1])}, in {via}")
            self.judge(routine, _how(calls[i - 1]), via)
        for i, call in enumerate(calls, start=1):
            if i not in resolved and call.how != "attribute":  # t.col is a column when no function matches
                plural = "s" if call.arity != 1 else ""
                self.refuse(
                    str(call.name),
                    f"no function of that name taking {call.arity} argument{plural} is on the search path, "
                    "so nothing proves it harmless",
                    f"{_how(call)}, in {via}",
                )

    @functools.cached_property
    def type_io_by_oid(self) -> set[int]:
        """Built-in input and receive functions that take the type to build as an OID argument
        (domain_in, record_in, array_in, range_in ...): called by name they run any type's input
        function and domain CHECKs, which nothing in the statement names. Read from the catalog."""
        return {row[0] for row in self.rows(TYPE_IO_BY_OID, {})}

    def _types(self, oids: list[int]) -> None:
        if not oids:
            return
        self.types.update(oids)
        self._judge_types([oid for oid in oids if oid not in self.judged_types])

    def _judge_types(self, oids: list[int]) -> None:
        """What values of these types run: I/O and range functions, domain CHECKs."""
        if not oids:
            return
        self.judged_types.update(oids)
        for what, *columns in self.rows(TYPE_FUNCTIONS, {"types": oids}):
            self.judge(_routine(columns), what, "the statement")
        for what, text in self.rows(DOMAIN_CHECKS, {"types": oids}):
            self._text(text, "expression", what, writes=False)

    def _relations(self, oids: list[int], writes: bool) -> None:
        while True:
            new = [oid for oid in oids if oid not in self.relations and oid >= FIRST_NORMAL_OBJECT_ID]
            if not new:
                return
            self.relations.update(new)
            columns = [row[0] for row in self.rows(COLUMN_TYPES, {"relations": new})]
            self.column_types.update(columns)
            # A value read from a column can be rebuilt as its type (a row type passed to
            # jsonb_populate_record, a range compared by the planner): judge the column types,
            # with what they hold, as if the statement named them.
            closure = [row[0] for row in self.rows(TYPE_CLOSURE, {"types": columns})]
            self._judge_types([oid for oid in closure if oid not in self.judged_types])
            for what, *columns in self.rows(RELATION_HANDLERS, {"relations": new}):
                self.judge(_routine(columns), what, "the statement")
            for _oid, what, kind, text in self.rows(RELATION_TEXTS, {"relations": new, "writes": writes}):
                self._text(text, kind, what, writes=writes)
            oids = [row[0] for row in self.rows(CHILDREN, {"relations": new})]

    def _text(self, text: str, kind: str, via: str, *, writes: bool) -> None:
        from todoctl.core.explain.adhoc import reach_of_text

        try:
            found = reach_of_text(text, expression=kind == "expression")
        except ValueError as exc:
            self.refuse(via, f"todoctl cannot read its definition ({exc}), so nothing proves it harmless", via)
            return
        self.reach(found, via, writes=writes)


def _names(names) -> dict:
    names = list(names)
    return {"schemas": [n.schema for n in names], "names": [n.name for n in names]}


def refusals(cur, reach: Reach) -> list[Refusal]:
    """Everything ``reach`` can make the server run that is not proven harmless, resolved against
    the search path of the cursor's connection (the statement's). Reads only the catalog, in the
    caller's transaction, which must be rolled back after: the judge's own queries run with
    ``search_path = pg_catalog, pg_temp`` (SET LOCAL), so no schema on the statement's path can
    stand in for a catalog table, function or operator they use; the statement's path is read
    first and passed to them as data."""
    cur.execute("SELECT pg_catalog.current_schemas(true)::pg_catalog.text[]")
    path = list(cur.fetchone()[0])
    cur.execute("SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)")
    judge = _Judge(cur, path)
    judge.reach(reach, "the statement")
    judge.casts()
    return sorted(judge.found.values(), key=lambda r: (r.function, r.reached))


def _how(call) -> str:
    if call.how == "attribute":
        return f"attribute notation .{call.name.name}"
    if call.how == "tablesample":
        return f"TABLESAMPLE {call.name}"
    return "called"


def refuse(found: list[Refusal], *, allowed: bool, protected: bool, database: str) -> None:
    """Exit 4 naming what is not proven harmless: unless ``allowed``, and always when ``protected``."""
    if not found or (allowed and not protected):
        return
    shown = "; ".join(r.describe() for r in found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
    if protected:
        raise TodoctlError(
            f"{database} is a protected production database: refusing to run {shown}",
            hint=f"{ALLOW_OPTION} is never allowed on a protected database; explain the statement on a copy of it",
            exit_code=ExitCode.REFUSED,
            details={"refused": [r.as_dict() for r in found]},
        )
    raise TodoctlError(
        f"refusing to run {shown}; explain sql runs only built-in IMMUTABLE or STABLE functions that act "
        "inside the transaction",
        hint=f"pass {ALLOW_OPTION} if you mean it (never allowed on a protected database)",
        exit_code=ExitCode.REFUSED,
        details={"refused": [r.as_dict() for r in found]},
    )
