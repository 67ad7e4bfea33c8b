"""Named queries: the app's statements that ``explain``, ``health`` and ``review`` know by name.

This is todoctl's public API for apps (``docs/queries.md``); everything here is importable from
``todoctl`` itself::

    from typing import Annotated
    from todoctl import Budget, Param, heaviest, query

    @query("reader-loans", "One reader's open loans, soonest due first.", budget=Budget(max_ms=20))
    def reader_loans(user_id: Annotated[int, Param("the reader", pick=heaviest(Loan.user_id))]):
        return select(Loan).where(Loan.user_id == user_id).order_by(Loan.due_at).limit(50)

A named query is a function that builds a SQLAlchemy statement from typed parameters. Each
parameter's type is its annotation (``int``, ``str``, ``uuid.UUID``, ``datetime``, ``date``,
``Decimal``, ``bool``, an ``Enum``, ``Literal[...]``, ``X | None`` for an optional one, or the app's
own type, built from the ``--param`` text); its default comes from the data through a picker:
:func:`heaviest`, :func:`typical`, :func:`recent`, :func:`now`, or any function
``(picker, values) -> value``. The modules listed in ``queries`` of ``[tool.todoctl]`` register the
app's queries when todoctl imports them (:func:`app_queries`); a module that fails to import, a
duplicate name or a parameter without a type is a usage error (exit 2) naming the module and line.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
import types
import typing
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from todoctl.errors import ExitCode, TodoctlError, usage_error

if TYPE_CHECKING:
    from sqlalchemy import Column, Connection
    from sqlalchemy.sql import Executable

    from todoctl.project import Project

__all__ = [
    "FREE_ROWS_READ",
    "Budget",
    "NamedQuery",
    "Param",
    "Pick",
    "Picker",
    "app_queries",
    "get",
    "heaviest",
    "now",
    "parse_assignments",
    "placeholders",
    "query",
    "recent",
    "resolve_params",
    "typical",
]

INTEGER_BOUNDS = (0, 2**31 - 1)  # an integer parameter's range unless it says otherwise (PostgreSQL's integer)
FREE_ROWS_READ = 1_000  # reading this many rows costs well under a millisecond: never a budget violation


# ---------------------------------------------------------------- parameters


@dataclass(frozen=True)
class ParamInfo:
    """A parameter as ``explain list`` describes it."""

    name: str
    type: str
    description: str
    optional: bool
    default: str | None


@dataclass(frozen=True)
class QueryInfo:
    """A named query as ``explain list`` describes it: parameters, the rows it reads, its budget."""

    name: str
    description: str
    modifies: bool
    params: list[ParamInfo]
    where: str | None
    budget: dict[str, Any]  # the Budget's fields, and "terms": each as a sentence
    indexes: list[str]


@dataclass(frozen=True)
class QueryList:
    """``explain list``: every named query of the app."""

    queries: list[QueryInfo]


@dataclass(frozen=True)
class Param:
    """A named query's parameter.

    In a signature, ``Annotated[int, Param("the reader", pick=heaviest(Loan.user_id))]``: the name
    and the type come from the signature. Given in ``@query(params=...)``, name them:
    ``Param("the reader", name="user_id", type=int)``.
    """

    description: str = ""
    pick: Callable[["Picker", dict], Any] | None = None  # the default, picked from the data
    optional: bool = False  # None is a valid value (e.g. the first page of a keyset pagination)
    bounds: tuple[int, int] | None = None  # an integer's range (default: PostgreSQL's integer, from 0)
    name: str = ""
    type: Any = None
    choices: tuple = ()  # Literal["a", "b"]: the values it may take

    @property
    def base(self) -> Any:
        """The type values are parsed as: a NewType's supertype, else the type itself."""
        kind = self.type
        while hasattr(kind, "__supertype__"):
            kind = kind.__supertype__
        return kind

    @property
    def type_name(self) -> str:
        """How ``explain list`` names the type: PostgreSQL's word for a plain type, else the type's name."""
        if self.choices:
            return "|".join(str(c) for c in self.choices)
        names = {uuid.UUID: "uuid", str: "text", int: "integer", float: "float", bool: "boolean",
                 datetime: "timestamp", date: "date", Decimal: "numeric"}
        if self.type in names:
            return names[self.type]
        return getattr(self.type, "__name__", str(self.type))

    @property
    def integer_bounds(self) -> tuple[int, int]:
        return self.bounds or INTEGER_BOUNDS

    @property
    def default_text(self) -> str | None:
        """How the default is chosen, for ``explain list`` (None: no default)."""
        if self.pick is None:
            return None
        described = getattr(self.pick, "describe", None)
        if callable(described):
            return described()
        doc = (getattr(self.pick, "__doc__", None) or "").strip()
        if doc:
            first = " ".join(doc.split("\n\n")[0].split())
            return first.split(". ")[0].rstrip(".")
        return f"picked by {getattr(self.pick, '__qualname__', 'the app')}()"

    def parse(self, raw: str) -> Any:
        """A ``--param name=value`` text as this parameter's type; a wrong value is a usage error (exit 2)."""
        if self.optional and raw.strip().lower() in ("", "none", "null"):
            return None
        kind = self.base
        try:
            value = _parse_as(kind, raw, self)
        except TodoctlError:
            raise
        except (ValueError, TypeError, ArithmeticError, LookupError):
            raise usage_error(
                f"parameter {self.name}={raw!r} is not valid: expected {self._expected()}",
                f"{self.name}: {self.description}" if self.description else None,
            ) from None
        if self.choices and value not in self.choices:
            raise usage_error(
                f"parameter {self.name}={raw!r} is not one of {', '.join(map(str, self.choices))}",
                f"{self.name}: {self.description}" if self.description else None,
            )
        return self.type(value) if kind is not self.type and callable(self.type) else value

    def _expected(self) -> str:
        kind = self.base
        if isinstance(kind, type) and issubclass(kind, Enum):
            return "one of " + ", ".join(str(m.value) for m in kind)
        if kind is bool:
            return "true or false"
        name = self.type_name
        return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"

    def placeholder(self, n: int) -> Any:
        """A value of this type, different for each ``n`` (review reads which parameter a bound value is);
        an integer is never 1 (a LIMIT 1 is the builder's own)."""
        kind = self.base
        if self.choices:
            value: Any = self.choices[n % len(self.choices)]
        elif kind is uuid.UUID:
            value = uuid.UUID(int=n + 1)
        elif kind is datetime:
            value = datetime(2000, 1, 1 + n % 28, tzinfo=timezone.utc)
        elif kind is date:
            value = date(2000, 1, 1 + n % 28)
        elif isinstance(kind, type) and issubclass(kind, Enum):
            members = list(kind)
            value = members[n % len(members)]
        elif kind is bool:
            value = True
        elif kind is int:
            low, high = self.integer_bounds
            value = min(max(2, low) + n, high)
        elif kind in (float, Decimal):
            value = kind(2 + n)
        elif kind is str:
            value = f"x{n}"
        else:  # the app's own type: from a text if it takes one, else its empty value, else unknown
            value = None
            for make in (lambda: _parse_as(kind, f"{n + 2}", self), lambda: _parse_as(kind, f"x{n}", self), kind):
                try:
                    value = make()
                    break
                except Exception:
                    continue
        if value is None:
            return None
        return self.type(value) if kind is not self.type and callable(self.type) else value


_TRUE, _FALSE = {"true", "t", "yes", "y", "on", "1"}, {"false", "f", "no", "n", "off", "0"}


def _parse_as(kind: Any, raw: str, param: Param) -> Any:
    raw = raw.strip() if kind is not str else raw
    if isinstance(kind, type) and issubclass(kind, Enum):
        for member in kind:
            if raw in (str(member.value), member.name):
                return member
        raise ValueError(raw)
    if kind is bool:
        if raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
        raise ValueError(raw)
    if kind is int:
        low, high = param.integer_bounds
        value = int(raw)
        if not low <= value <= high:
            raise usage_error(
                f"parameter {param.name}={raw!r} is outside {low:,}..{high:,}",
                f"{param.name}: {param.description}" if param.description else None,
            )
        return value
    if kind is uuid.UUID:
        return uuid.UUID(raw)
    if kind is datetime:
        value = datetime.fromisoformat(raw)
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if kind is date:
        return date.fromisoformat(raw)
    if kind is Decimal:
        value = Decimal(raw)
        if not value.is_finite():
            raise ValueError(raw)
        return value
    if kind is float:
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError(raw)
        return value
    if "\x00" in raw:  # PostgreSQL text cannot hold NUL: the driver would fail mid-EXPLAIN
        raise ValueError(raw)
    if kind is str:
        return raw
    return kind(raw)  # the app's own type, built from the text


# ---------------------------------------------------------------- budgets


@dataclass(frozen=True)
class Budget:
    """What ``explain check`` holds a query to, in terms of what a caller pays (the same on every size).

    A plan's shape is free: a top-N Sort of a few dozen rows or a sequential scan of a small table
    is what the planner should pick. What is judged is the work: rows read, rows sorted, buffers.
    """

    max_ms: float = 50.0  # execution time, median of the runs
    # Rows read (scanned, including those a filter threw away) per row returned; reading up to
    # FREE_ROWS_READ rows is always fine. None: an aggregate, judged by buffers alone.
    max_read_per_row: float | None = 10.0
    max_rows_sorted: int = 500  # rows fed into one Sort node: a top-N of a few hundred is fine
    max_buffers: int = 1_000  # shared buffers touched (hit + read), whole plan
    # A Seq Scan keeping at most 10% of a table of at least large_rows rows always fails.
    large_rows: int = 10_000
    # A row estimate off by at least this factor fails only where the statistics are stale
    # (ANALYZE fixes it); on fresh statistics a misestimate is reported in the tree, not failed.
    max_misestimate: float = 10.0
    allow_spill: bool = False  # a Sort or Hash that spilled to disk fails

    def terms(self) -> list[str]:
        """The budget as short phrases, for ``explain list`` and ``check``."""
        read = f"read ≤ {self.max_read_per_row:g}/row" if self.max_read_per_row is not None else "read: any (aggregate)"
        return [
            f"≤ {self.max_ms:g} ms",
            read,
            f"sort ≤ {self.max_rows_sorted:,} rows",
            f"≤ {self.max_buffers:,} buffers",
            f"no selective Seq Scan on ≥ {self.large_rows:,} rows",
            f"misestimate < {self.max_misestimate:g}x on stale stats",
            "spill ok" if self.allow_spill else "no spill",
        ]


# ---------------------------------------------------------------- the registry


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    build: Callable[..., "Executable"]
    params: tuple[Param, ...] = ()
    budget: Budget = field(default_factory=Budget)
    modifies: bool = False  # an UPDATE/DELETE: only ever explained inside a rolled-back transaction
    # Indexes (named in the app's models) the query's plan relies on: `explain check` fails when one
    # is missing or invalid, with the statement that re-creates it.
    indexes: tuple[str, ...] = ()
    # Reads every user's rows on purpose (a nightly job): `review` does not ask it for a user_id filter.
    cross_user: bool = False
    module: str = ""  # where it is registered, for messages: the module, its file and line
    file: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return _where(self.file, self.line, self.module)

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        known = ", ".join(p.name for p in self.params) or "none"
        raise usage_error(f"query {self.name!r} has no parameter {name!r}", f"its parameters: {known}")


# module -> {query name -> NamedQuery}, in registration order
_REGISTERED: dict[str, dict[str, NamedQuery]] = {}


def _where(file: str, line: int, module: str) -> str:
    return f"{file} line {line} (module {module})" if file else f"module {module}"


def query(
    name: str,
    description: str,
    *,
    params: Iterable[Param] | None = None,
    budget: Budget | None = None,
    modifies: bool = False,
    indexes: Iterable[str] = (),
    cross_user: bool = False,
):
    """Register a statement builder as a named query.

    ``params``: leave it out and the parameters are the function's, typed by their annotations
    (``Annotated[T, Param(...)]`` adds a description and a picker; a default value is the default;
    ``= None`` or ``T | None`` makes it optional). ``budget``: what ``explain check`` holds it to.
    ``modifies``: an UPDATE or DELETE (explained only in a rolled-back transaction). ``indexes``:
    index names its plan relies on. ``cross_user``: it reads every user's rows on purpose.
    """

    def register(build: Callable[..., "Executable"]) -> Callable[..., "Executable"]:
        module = getattr(build, "__module__", None) or "__main__"
        file, line = _source_of(build)
        where = _where(file, line, module)
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise usage_error(f"{where}: a named query needs a name without surrounding spaces, not {name!r}")
        declared = tuple(params) if params is not None else _signature_params(build, where, name)
        for param in declared:
            if not param.name or param.type is None:
                raise usage_error(
                    f"{where}: query {name!r}: a Param given in params= needs name= and type=",
                    'e.g. Param("the reader", name="user_id", type=int)',
                )
        named = NamedQuery(
            name, description, build, declared, budget or Budget(), modifies, tuple(indexes), cross_user,
            module=module, file=file, line=line,
        )
        for param in declared:
            check = getattr(param.pick, "check", None)
            if callable(check):
                check(named, param)
        entries = _REGISTERED.setdefault(module, {})
        before = entries.get(name)
        # The same function registered again is a reload of its module (importlib.reload): it replaces.
        if before is not None and (before.file, getattr(before.build, "__qualname__", None)) != (
            file, getattr(build, "__qualname__", None)
        ):
            raise usage_error(
                f"{where}: duplicate named query {name!r}; it is already registered at {before.where}",
                "give each named query its own name",
            )
        entries[name] = named
        return build

    return register


def _source_of(build: Callable) -> tuple[str, int]:
    code = getattr(build, "__code__", None)
    if code is None:
        return "", 0
    return _relative(code.co_filename), code.co_firstlineno


def _relative(path: str) -> str:
    from pathlib import Path

    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path


def _signature_params(build: Callable, where: str, name: str) -> tuple[Param, ...]:
    """The parameters of ``build``, typed by their annotations."""
    try:
        signature = inspect.signature(build)
    except (TypeError, ValueError) as exc:
        raise usage_error(f"{where}: query {name!r}: cannot read the function's signature: {exc}") from None
    try:
        hints = typing.get_type_hints(build, include_extras=True)
    except Exception as exc:  # an annotation naming something the module does not define
        raise usage_error(
            f"{where}: query {name!r}: its annotations cannot be resolved: {type(exc).__name__}: {exc}",
            "import every type the parameters are annotated with in the queries module",
        ) from None
    found = []
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise usage_error(
                f"{where}: query {name!r}: *{parameter.name} is not a parameter todoctl can give a value to",
                "declare each parameter by name, with its type",
            )
        if parameter.name not in hints:
            raise usage_error(
                f"{where}: query {name!r}: parameter {parameter.name} has no type",
                f"annotate it, e.g. {parameter.name}: int, or Annotated[int, Param(\"...\", pick=...)]",
            )
        found.append(_param_of(parameter, hints[parameter.name], where, name))
    return tuple(found)


def _param_of(parameter: inspect.Parameter, hint: Any, where: str, query_name: str) -> Param:
    declared = Param()
    if typing.get_origin(hint) is typing.Annotated:
        extras = [e for e in hint.__metadata__ if isinstance(e, Param)]
        hint = hint.__origin__
        if extras:
            declared = extras[0]
    optional = declared.optional
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise usage_error(f"{where}: query {query_name!r}: parameter {parameter.name}: one type or None, not {hint}")
        hint, optional = rest[0], True
    choices: tuple = ()
    if typing.get_origin(hint) is typing.Literal:
        choices = typing.get_args(hint)
        kinds = {type(c) for c in choices}
        if len(kinds) != 1:
            raise usage_error(f"{where}: query {query_name!r}: parameter {parameter.name}: a Literal of one type")
        hint = kinds.pop()
    if typing.get_origin(hint) is not None or not (isinstance(hint, type) or hasattr(hint, "__supertype__")):
        raise usage_error(
            f"{where}: query {query_name!r}: parameter {parameter.name}: {hint} is not a type todoctl can parse "
            "a --param value as",
            "use a plain type (int, str, uuid.UUID, datetime, an Enum, the app's own class) or T | None",
        )
    pick = declared.pick
    if parameter.default is not inspect.Parameter.empty:
        if parameter.default is None:
            optional = True
        elif pick is None:
            pick = constant(parameter.default)
    return dataclasses.replace(declared, name=parameter.name, type=hint, optional=optional, choices=choices, pick=pick)


def registered(module: str) -> dict[str, NamedQuery]:
    """The queries ``module`` (or its submodules) registered, once imported."""
    return {
        name: named
        for registering, entries in _REGISTERED.items()
        if registering == module or registering.startswith(module + ".")
        for name, named in entries.items()
    }


_BY_PROJECT: dict[tuple, dict[str, NamedQuery]] = {}


def project_queries(project: "Project") -> dict[str, NamedQuery]:
    """The named queries of ``project``: its ``queries`` modules imported, their registrations collected."""
    from todoctl.project import import_module

    key = (project.root, project.file, project.queries)
    if key in _BY_PROJECT:
        return _BY_PROJECT[key]
    found: dict[str, NamedQuery] = {}
    for module in project.queries:
        import_module(project, module, "queries")
        mine = registered(module)
        if not mine:
            raise project.error(
                "queries",
                f"{module} registers no named query",
                "decorate the query functions with @todoctl.query(...), or remove the module from queries",
            )
        for name, named in mine.items():
            other = found.get(name)
            if other is not None and other is not named:
                raise usage_error(
                    f"{named.where}: duplicate named query {name!r}; it is already registered at {other.where}",
                    "give each named query its own name",
                )
            found[name] = named
    _BY_PROJECT[key] = found
    return found


def app_queries() -> dict[str, NamedQuery]:
    """The named queries of the app this invocation works on (``project.current()``)."""
    from todoctl import project

    return project_queries(project.current())


def get(name: str, queries: Mapping[str, NamedQuery] | None = None) -> NamedQuery:
    """The named query, or a usage error (exit 2) that suggests close matches."""
    registry = app_queries() if queries is None else queries
    try:
        return registry[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(registry), n=3, cutoff=0.5)
        if close:
            hint = f"did you mean {', '.join(close)}?"
        elif not registry:
            hint = "the app declares no named queries: list its modules in queries of [tool.todoctl]"
        else:
            hint = "run `todoctl explain list` for the names"
        raise usage_error(f"unknown query {name!r}", hint) from None


def parse_assignments(named: NamedQuery, assignments: list[str]) -> dict[str, Any]:
    """``["user_id=...", "status=completed"]`` as typed values; names and types are checked."""
    values: dict[str, Any] = {}
    for item in assignments:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise usage_error(f"--param {item!r} is not name=value", "for example --param status=completed")
        param = named.param(name.strip())
        values[param.name] = param.parse(raw.strip() if param.base is not str else raw)
    return values


def placeholders(params: Iterable[Param]) -> dict[str, Any]:
    """A value of each parameter's type, a different one per parameter (see :meth:`Param.placeholder`)."""
    return {param.name: param.placeholder(n) for n, param in enumerate(params)}


def resolve_params(
    conn: "Connection", named: NamedQuery, given: dict[str, Any], picker: "Picker | None" = None, *, timeout: str | None = None
) -> dict:
    """The given values, with every missing one picked from the data (in the caller's transaction,
    under ``timeout`` as statement_timeout and lock_timeout when given)."""
    picker = picker or Picker(conn)
    values: dict[str, Any] = {}
    if timeout and any(p.name not in given and p.pick is not None for p in named.params):
        from sqlalchemy import text

        conn.execute(
            text("SELECT pg_catalog.set_config('statement_timeout', :t, true), pg_catalog.set_config('lock_timeout', :t, true)"),
            {"t": timeout},
        )
    for param in named.params:
        if param.name in given:
            values[param.name] = given[param.name]
        elif param.pick is not None:
            values[param.name] = _picked(picker, named, param, values, timeout)
        else:
            values[param.name] = None
    return values


def _picked(picker: "Picker", named: NamedQuery, param: Param, values: dict, timeout: str | None) -> Any:
    from sqlalchemy.exc import DBAPIError

    try:
        return param.pick(picker, values)
    except DBAPIError as exc:
        state = getattr(exc.orig, "sqlstate", None)
        # Only under the timeouts set here; a caller that set its own (explain) judges its own.
        if timeout and state in ("57014", "55P03"):  # query_canceled (statement timeout), lock_not_available
            raise TodoctlError(
                f"picking {param.name} for {named.name!r} did not finish within {timeout or 'the timeout'}; rolled back",
                hint=f"give it: --param {param.name}=VALUE, or raise --timeout",
                exit_code=ExitCode.BUSY if state == "55P03" else ExitCode.CHECK_FAILED,
            ) from None
        raise


# ---------------------------------------------------------------- defaults picked from the data


class Picker:
    """Reads parameter defaults from the database, memoised for one connection.

    A custom picker is a function ``(picker, values) -> value``: ``values`` holds the parameters
    picked so far, ``picker.one(statement, what=...)`` runs a SELECT and returns its first column
    (memoised), ``picker.conn`` is the SQLAlchemy connection.
    """

    def __init__(self, conn: "Connection") -> None:
        self.conn = conn
        self._cache: dict[tuple, Any] = {}

    def one(self, stmt, *, what: str, key: tuple | None = None, hint: str | None = None) -> Any:
        """The first column of the statement's first row; none at all is an error naming ``what``."""
        from sqlalchemy.dialects import postgresql

        if key is None:
            compiled = stmt.compile(dialect=postgresql.dialect())
            key = (str(compiled), tuple(sorted((k, repr(v)) for k, v in compiled.params.items())))
        if key not in self._cache:
            row = self.conn.execute(stmt).first()
            if row is None or row[0] is None:
                raise TodoctlError(
                    f"cannot pick a default value ({what}): the database has none",
                    hint=hint or "fill the database first (`todoctl seed`), or give the value with --param NAME=VALUE",
                )
            self._cache[key] = row[0]
        return self._cache[key]


class Pick:
    """A declarative picker: a default read from the data by a statement todoctl builds from the
    models (the metadata's tables and foreign keys), so the app writes no SQL for it."""

    def __init__(self, kind: str, column: Any, where: Mapping[str, str] | Iterable[str] | None, describe, build):
        self.kind = kind
        self.column_ref = column
        self.where = _where_map(where)
        self._describe = describe
        self._build = build

    def __repr__(self) -> str:
        return f"<{self.kind} {self.describe()}>"

    def describe(self) -> str:
        column = _column_or_none(self.column_ref)
        table, name = (column.table.name, column.name) if column is not None else str(self.column_ref).rpartition(".")[::2]
        text = self._describe(table, name)
        if self.where:
            text += " for the " + " and ".join(sorted(set(self.where.values()))) + " picked before"
        return text

    def column(self) -> "Column":
        column = _column_or_none(self.column_ref)
        if column is None:
            column = _column_from_metadata(str(self.column_ref))
        return column

    def check(self, named: NamedQuery, param: Param) -> None:
        """Called at registration: the picker fits the query (its column exists; heaviest: it is a foreign key)."""
        column = _column_or_none(self.column_ref)
        if column is None and not isinstance(self.column_ref, str):
            raise usage_error(
                f"{named.where}: query {named.name!r}: {self.kind}({self.column_ref!r}) for {param.name} needs a "
                "column: Model.attribute, a Column, or \"table.column\""
            )
        if column is not None:
            self._check_column(named, param, column)
        earlier = [p.name for p in named.params[: named.params.index(param)]]
        for column_name, source in self.where.items():
            if source not in earlier:
                raise usage_error(
                    f"{named.where}: query {named.name!r}: {self.kind}(..., where=...) for {param.name} reads "
                    f"parameter {source!r}, which is not a parameter before it",
                    f"the parameters before {param.name}: {', '.join(earlier) or 'none'}",
                )
            if column is not None and column_name not in column.table.c:
                raise usage_error(
                    f"{named.where}: query {named.name!r}: {column.table.name} has no column {column_name!r} (where=)"
                )

    def _check_column(self, named: NamedQuery, param: Param, column) -> None:
        if self.kind == "heaviest" and not column.foreign_keys:
            raise usage_error(
                f"{named.where}: query {named.name!r}: heaviest({column.table.name}.{column.name}) for {param.name}: "
                f"{column.table.name}.{column.name} is not a foreign key",
                "name the child table's foreign-key column: heaviest(Child.parent_id) picks the parent with the most children",
            )

    def __call__(self, picker: Picker, values: dict) -> Any:
        column = self.column()
        table = column.table
        filters = [column.is_not(None)]
        for column_name, source in self.where.items():
            if column_name not in table.c:
                raise usage_error(f"{self.kind}: {table.name} has no column {column_name!r}")
            filters.append(table.c[column_name] == values.get(source))
        key = (self.kind, table.name, column.name, tuple((c, repr(values.get(s))) for c, s in self.where.items()))
        return picker.one(self._build(column, filters), what=self.describe(), key=key)


def _where_map(where) -> dict[str, str]:
    if where is None:
        return {}
    if isinstance(where, Mapping):
        return {str(k): str(v) for k, v in where.items()}
    return {str(name): str(name) for name in where}


def _column_or_none(ref: Any):
    from sqlalchemy import Column

    if isinstance(ref, Column):
        return ref
    columns = getattr(getattr(ref, "property", None), "columns", None)
    if columns:
        return columns[0]
    return None


def _column_from_metadata(ref: str):
    from todoctl.project import app_metadata, find_table

    table_name, _, column_name = ref.rpartition(".")
    table = find_table(app_metadata(), table_name)
    if table is None or column_name not in table.c:
        raise usage_error(f"no column {ref!r} in the app's models", 'name a column as "table.column", or Model.attribute')
    return table.c[column_name]


def heaviest(foreign_key: Any, *, where: Mapping[str, str] | Iterable[str] | None = None) -> Pick:
    """The parent row with the most children along a foreign key: ``heaviest(Loan.user_id)`` is the
    reader with the most loans (the worst case of a per-user page). ``where={"user_id": "user_id"}``
    counts only the child rows whose column equals a parameter picked before this one."""

    def build(column, filters):
        from sqlalchemy import func, select

        return select(column).where(*filters).group_by(column).order_by(func.count().desc(), column).limit(1)

    return Pick("heaviest", foreign_key, where, lambda table, name: f"the {name} with the most rows in {table}", build)


def typical(column: Any, *, where: Mapping[str, str] | Iterable[str] | None = None) -> Pick:
    """A typical value of a column: the one whose number of rows is closest to the median per value
    (neither the commonest nor a one-off). For an array column, a typical element."""

    def build(column, filters):
        from sqlalchemy import ARRAY, func, select

        if isinstance(column.type, ARRAY):
            elements = select(func.unnest(column).label("v")).where(*filters).subquery("elements")
            counts = select(elements.c.v, func.count().label("n")).group_by(elements.c.v).cte("counts")
        else:
            counts = select(column.label("v"), func.count().label("n")).where(*filters).group_by(column).cte("counts")
        median = select(func.percentile_cont(0.5).within_group(counts.c.n)).scalar_subquery()
        return select(counts.c.v).order_by(func.abs(counts.c.n - median), counts.c.n.desc(), counts.c.v).limit(1)

    return Pick("typical", column, where, lambda table, name: f"a typical {table}.{name}", build)


def recent(column: Any, *, share: float = 0.05, where: Mapping[str, str] | Iterable[str] | None = None) -> Pick:
    """A recent timestamp (or any ordered value): the one the newest ``share`` of the rows are at or
    after (5% by default), so a query "since then" reads a realistic slice of recent rows."""
    if not 0 < share < 1:
        raise usage_error(f"recent(share={share!r}): a share between 0 and 1", "e.g. recent(Loan.borrowed_at, share=0.05)")

    def build(column, filters):
        from sqlalchemy import func, select

        return select(func.percentile_disc(1 - share).within_group(column)).where(*filters)

    return Pick(
        "recent", column, where, lambda table, name: f"the {table}.{name} the newest {share:.0%} of rows are at or after", build
    )


class _Now:
    def __call__(self, picker: Picker, values: dict) -> datetime:
        return datetime.now(timezone.utc).replace(microsecond=0)

    def describe(self) -> str:
        return "now"


def now() -> Callable[[Picker, dict], datetime]:
    """The current time (UTC, whole seconds): an "as of" parameter's default."""
    return _Now()


class _Constant:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, picker: Picker, values: dict) -> Any:
        return self.value

    def describe(self) -> str:
        value = self.value.value if isinstance(self.value, Enum) else self.value
        return f"{value}"


def constant(value: Any) -> Callable[[Picker, dict], Any]:
    """Always ``value`` (what a parameter's default value in the signature means)."""
    return _Constant(value)
