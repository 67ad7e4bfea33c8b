"""The named-query API (``from todoctl import query, Param``): registration from an app's modules,
parameter types from annotations, declarative pickers on a real database, and the usage errors
(exit 2) that name the module and line."""

from __future__ import annotations

import enum
import subprocess
import sys
import textwrap
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal, NewType

import pytest

from todoctl import project
from todoctl.errors import ExitCode, TodoctlError
from todoctl.named_queries import Param, Picker, project_queries, query, resolve_params

HEADER = """\
from typing import Annotated
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, select
from todoctl import Budget, Param, heaviest, query, typical

metadata = MetaData()
owners = Table("owners", metadata, Column("id", Integer, primary_key=True), Column("name", String))
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("owner_id", ForeignKey("owners.id")),
              Column("body", String))
"""


def app(tmp_path, *modules: str):
    """A project whose modules (each a source text) are listed in ``queries``; returns (project, names)."""
    prefix = f"app_{uuid.uuid4().hex[:8]}"
    names = []
    (tmp_path / f"{prefix}_models.py").write_text(HEADER)
    for n, source in enumerate(modules):
        name = f"{prefix}_q{n}"
        (tmp_path / f"{name}.py").write_text(f"from {prefix}_models import *\n" + textwrap.dedent(source))
        names.append(name)
    listed = ", ".join(f'"{n}"' for n in names)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.todoctl]\nmetadata = "{prefix}_models:metadata"\nqueries = [{listed}]\n'
    )
    return project.from_directory(tmp_path), names


NOTES = """\
@query("owner-notes", "One owner's notes.", budget=Budget(max_ms=5))
def owner_notes(owner_id: Annotated[int, Param("the owner", pick=heaviest(notes.c.owner_id))], limit: int = 20):
    return select(notes).where(notes.c.owner_id == owner_id).limit(limit)
"""


def test_the_modules_listed_register_the_apps_queries(tmp_path):
    proj, [module] = app(tmp_path, NOTES)
    queries = project_queries(proj)
    assert list(queries) == ["owner-notes"]
    named = queries["owner-notes"]
    assert named.module == module and named.budget.max_ms == 5 and named.line == 2
    owner, limit = named.params
    assert (owner.name, owner.type, owner.description, owner.optional) == ("owner_id", int, "the owner", False)
    assert owner.default_text == "the owner_id with the most rows in notes"
    assert (limit.name, limit.type, limit.default_text) == ("limit", int, "20")


def test_a_parameter_without_a_type_is_exit_2_naming_module_and_line(tmp_path):
    proj, [module] = app(tmp_path, '\n\n@query("q", "d")\ndef q(owner_id):\n    return select(notes)\n')
    with pytest.raises(TodoctlError) as raised:
        project_queries(proj)
    assert raised.value.exit_code is ExitCode.USAGE
    assert f"{module}.py line 4 (module {module})" in raised.value.message
    assert "parameter owner_id has no type" in raised.value.message


def test_a_duplicate_name_is_exit_2_naming_both_places(tmp_path):
    same = '@query("q", "d")\ndef q():\n    return select(notes)\n'
    proj, [first, second] = app(tmp_path, same, "\n" + same)
    with pytest.raises(TodoctlError) as raised:
        project_queries(proj)
    assert raised.value.exit_code is ExitCode.USAGE
    message = raised.value.message
    assert "duplicate named query 'q'" in message and f"{second}.py line 3" in message and f"{first}.py line 2" in message


def test_a_duplicate_in_one_module_is_refused_at_import(tmp_path):
    proj, [module] = app(tmp_path, '@query("q", "d")\ndef a():\n    return select(notes)\n\n'
                                   '@query("q", "d")\ndef b():\n    return select(notes)\n')
    with pytest.raises(TodoctlError) as raised:
        project_queries(proj)
    assert raised.value.exit_code is ExitCode.USAGE and f"{module}.py line 6" in raised.value.message


def test_a_module_that_fails_to_import_is_exit_2_naming_it_and_the_line(tmp_path):
    proj, [module] = app(tmp_path, "\n\nraise RuntimeError('no settings')\n")
    with pytest.raises(TodoctlError) as raised:
        project_queries(proj)
    assert raised.value.exit_code is ExitCode.USAGE
    assert f"importing {module} failed: RuntimeError: no settings" in raised.value.message
    assert f"{module}.py line 4" in raised.value.message


def test_a_module_that_registers_nothing_is_exit_2(tmp_path):
    proj, [module] = app(tmp_path, "X = 1\n")
    with pytest.raises(TodoctlError) as raised:
        project_queries(proj)
    assert raised.value.exit_code is ExitCode.USAGE and f"{module} registers no named query" in raised.value.message


@pytest.mark.parametrize(
    "source, words",
    [
        ('@query("q", "d")\ndef q(name: Annotated[str, Param(pick=heaviest(notes.c.body))]):\n    return select(notes)\n',
         "notes.body is not a foreign key"),
        ('@query("q", "d")\ndef q(body: Annotated[str, Param(pick=typical(notes.c.body, where=["owner_id"]))]):\n'
         "    return select(notes)\n", "reads parameter 'owner_id', which is not a parameter before it"),
        ('@query("q", "d")\ndef q(*ids: int):\n    return select(notes)\n', "*ids is not a parameter"),
        ('@query("q", "d")\ndef q(ids: list[int]):\n    return select(notes)\n', "not a type todoctl can parse"),
    ],
)
def test_pickers_and_types_that_cannot_work_are_refused_at_registration(tmp_path, source, words):
    proj, [module] = app(tmp_path, source)
    with pytest.raises(TodoctlError) as raised:
        project_queries(proj)
    assert raised.value.exit_code is ExitCode.USAGE and words in raised.value.message
    assert f"{module}.py line 2" in raised.value.message


# ---------------------------------------------------------------- types from annotations


class Colour(enum.Enum):
    red = "r"
    green = "g"


class Isbn(str):
    """The app's own type: built from the text."""

    def __new__(cls, text: str):
        if len(text) != 13 or not text.isdigit():
            raise ValueError(text)
        return super().__new__(cls, text)


BookId = NewType("BookId", int)


def _params(function):
    query(f"t-{uuid.uuid4().hex[:8]}", "types")(function)
    from todoctl.named_queries import registered

    return {p.name: p for named in registered(__name__).values() if named.build is function for p in named.params}


def test_each_annotation_is_the_parameters_type():
    def build(
        when: datetime,
        day: date,
        price: Decimal,
        ok: bool,
        colour: Colour,
        size: Literal["s", "m"],
        isbn: Isbn,
        book: BookId,
        after: Annotated[uuid.UUID | None, Param("keyset")] = None,
    ):
        return None

    p = _params(build)
    assert p["when"].parse("2026-03-01T10:00:00") == datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    assert p["day"].parse("2026-03-01") == date(2026, 3, 1)
    assert p["price"].parse("12.50") == Decimal("12.50")
    assert p["ok"].parse("yes") is True and p["ok"].parse("off") is False
    assert p["colour"].parse("g") is Colour.green and p["colour"].parse("red") is Colour.red
    assert p["size"].parse("m") == "m" and p["size"].type_name == "s|m"
    assert p["isbn"].parse("9780000000001") == "9780000000001" and isinstance(p["isbn"].parse("9780000000001"), Isbn)
    assert p["book"].parse("7") == 7 and p["book"].type_name == "BookId"
    assert p["after"].optional and p["after"].parse("none") is None and p["after"].description == "keyset"
    for name, raw in [("day", "March"), ("price", "NaN"), ("ok", "perhaps"), ("colour", "blue"), ("size", "xl"),
                      ("isbn", "123"), ("book", "seven"), ("when", "soon")]:
        with pytest.raises(TodoctlError) as raised:
            p[name].parse(raw)
        assert raised.value.exit_code is ExitCode.USAGE and name in raised.value.message, name


def test_placeholders_are_values_of_each_type_and_differ():
    def build(a: int, b: int, colour: Colour, isbn: Isbn, day: date):
        return None

    from todoctl.named_queries import placeholders

    values = placeholders(_params(build).values())
    assert values["a"] != values["b"] and 1 not in (values["a"], values["b"])
    assert isinstance(values["colour"], Colour) and isinstance(values["day"], date)
    assert isinstance(values["isbn"], Isbn) or values["isbn"] is None


# ---------------------------------------------------------------- pickers on a real database


def test_declarative_pickers_read_the_data(use_app, shelf_project, shelf_filled_db, pg):
    use_app(shelf_project).import_path()
    from sqlalchemy import create_engine

    from shelf.models import Book, Loan
    from todoctl.named_queries import heaviest, recent, typical

    heaviest_reader = pg.execute(
        "SELECT user_id FROM loan GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1", database=shelf_filled_db.database
    )[0][0]
    engine = create_engine(shelf_filled_db.url)
    try:
        with engine.connect() as conn:
            picker = Picker(conn)
            assert heaviest(Loan.user_id)(picker, {}) == heaviest_reader
            # typical: the keyword whose number of books is closest to the median per keyword
            keyword = typical(Book.keywords)(picker, {})
            counts = dict(pg.execute("SELECT k, count(*) FROM book, unnest(keywords) AS k GROUP BY k",
                                     database=shelf_filled_db.database))
            ordered = sorted(counts.values())
            median = (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2
            assert abs(counts[keyword] - median) == min(abs(n - median) for n in counts.values())
            # recent: 5% of the loans were borrowed at or after it
            since = recent(Loan.borrowed_at)(picker, {})
            after = pg.execute(f"SELECT count(*) FILTER (WHERE borrowed_at >= '{since.isoformat()}') * 1.0 / count(*) FROM loan",
                               database=shelf_filled_db.database)[0][0]
            assert 0.04 <= after <= 0.06
            # where=: among the heaviest reader's loans only
            book = heaviest(Loan.book_id, where={"user_id": "user_id"})(picker, {"user_id": heaviest_reader})
            mine = pg.execute(f"SELECT count(*) FROM loan WHERE user_id = {heaviest_reader} AND book_id = {book}",
                              database=shelf_filled_db.database)[0][0]
            assert mine >= 1
            conn.rollback()
    finally:
        engine.dispose()


def test_an_empty_table_cannot_give_a_default(use_app, shelf_project, shelf_db):
    use_app(shelf_project)
    from sqlalchemy import create_engine

    from todoctl.named_queries import get

    engine = create_engine(shelf_db.url)
    try:
        with engine.connect() as conn:
            with pytest.raises(TodoctlError) as raised:
                resolve_params(conn, get("reader-loans"), {})
    finally:
        engine.dispose()
    assert "cannot pick a default value (the user_id with the most rows in loan): the database has none" in raised.value.message
    assert "--param" in raised.value.hint


def test_a_slow_pick_is_cut_by_the_timeout_and_named(use_app, shelf_project, shelf_filled_db):
    use_app(shelf_project)
    from sqlalchemy import create_engine, text

    def slow(picker, values):
        return picker.conn.execute(text("SELECT 1 FROM pg_sleep(5)")).scalar()

    from todoctl.named_queries import NamedQuery

    named = NamedQuery("slow-pick", "test", lambda n: None, (Param("n", pick=slow, name="n", type=int),))
    engine = create_engine(shelf_filled_db.url)
    try:
        with engine.connect() as conn:
            with pytest.raises(TodoctlError) as raised:
                resolve_params(conn, named, {}, timeout="200ms")
            conn.rollback()
    finally:
        engine.dispose()
    assert raised.value.exit_code is ExitCode.CHECK_FAILED
    assert "picking n for 'slow-pick' did not finish within 200ms" in raised.value.message


def test_importing_todoctl_loads_no_sqlalchemy_until_the_api_is_used():
    code = (
        "import sys, todoctl; assert 'sqlalchemy' not in sys.modules, 'eager'; "
        "from todoctl import query, Param, Budget, heaviest, typical, recent, now; print(query.__module__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "todoctl.named_queries"
