"""`schema erd`: the live schema as a Mermaid `erDiagram`, to paste into docs and pull requests.

Cardinality comes from the catalog: the parent end is "exactly one" when the foreign-key
columns are NOT NULL and "zero or one" otherwise; the child end is "zero or one" when the
foreign-key columns are unique on their own, else "zero or more". A relation is drawn solid
(identifying) when the foreign key is part of the child's primary key. Each relation's label names
the foreign-key columns and what deleting the parent row does (ON DELETE ...).

A large schema reads better as one diagram per group of tables that foreign keys connect:
:meth:`ErDiagram.clusters` splits it so (the HTML page draws each on its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import todoctl.core.catalog.snapshot as catalog
from todoctl.core.catalog.details import SCHEMA, foreign_keys, index_details
from todoctl.core.safety.revision_gate import require_head
from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL
from todoctl.results import human_only

_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Mermaid attribute types are one word: letters, digits, - _ [ ] ( ) . and commas.
_SHORT_TYPES = (
    ("timestamp with time zone", "timestamptz"),
    ("timestamp without time zone", "timestamp"),
    ("time with time zone", "timetz"),
    ("time without time zone", "time"),
    ("character varying", "varchar"),
    ("character", "char"),
    ("double precision", "float8"),
    ("bit varying", "varbit"),
)


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str
    keys: tuple[str, ...]  # PK, FK, UK


@dataclass(frozen=True)
class Entity:
    name: str
    attributes: tuple[Attribute, ...]


@dataclass(frozen=True)
class Relation:
    parent: str
    child: str
    columns: tuple[str, ...]
    parent_cardinality: str  # exactly one | zero or one
    child_cardinality: str  # zero or more | zero or one
    identifying: bool
    on_delete: str = "NO ACTION"  # NO ACTION | RESTRICT | CASCADE | SET NULL | SET DEFAULT
    references: tuple[str, ...] = ()  # the parent's columns

    @property
    def label(self) -> str:
        return f"{', '.join(self.columns)} (ON DELETE {self.on_delete})"

    @property
    def mermaid(self) -> str:
        left = "||" if self.parent_cardinality == "exactly one" else "|o"
        right = "o|" if self.child_cardinality == "zero or one" else "o{"
        line = "--" if self.identifying else ".."
        return f'{_entity(self.parent)} {left}{line}{right} {_entity(self.child)} : "{_label(self.label)}"'


@dataclass
class ErDiagram:
    database: str = human_only()
    entities: list[Entity]
    relations: list[Relation]

    __json_properties__ = ("mermaid",)

    @property
    def mermaid(self) -> str:
        lines = ["erDiagram"]
        for relation in self.relations:
            lines.append(f"    {relation.mermaid}")
        for entity in self.entities:
            lines.append(f"    {_entity(entity.name)} {{")
            for attribute in entity.attributes:
                keys = f" {', '.join(attribute.keys)}" if attribute.keys else ""
                lines.append(f"        {attribute.type} {_attribute_name(attribute.name)}{keys}")
            lines.append("    }")
        return "\n".join(lines) + "\n"

    def clusters(self) -> list["ErDiagram"]:
        """One diagram per group of tables that foreign keys connect, largest first; the tables
        no foreign key touches come last, together."""
        group = {e.name: e.name for e in self.entities}

        def find(name: str) -> str:
            while group[name] != name:
                group[name] = group[group[name]]
                name = group[name]
            return name

        for relation in self.relations:
            group[find(relation.parent)] = find(relation.child)
        members: dict[str, list[Entity]] = {}
        for entity in self.entities:
            members.setdefault(find(entity.name), []).append(entity)
        connected = [m for m in members.values() if len(m) > 1 or any(r.child == m[0].name for r in self.relations)]
        alone = [e for m in members.values() if m not in connected for e in m]
        connected.sort(key=lambda m: (-len(m), m[0].name))
        diagrams = []
        for entities in connected + ([alone] if alone else []):
            names = {e.name for e in entities}
            diagrams.append(ErDiagram(self.database, entities, [r for r in self.relations if r.child in names]))
        return diagrams


def mermaid_type(pg_type: str) -> str:
    """``character varying(255)`` -> ``varchar(255)``; any other space becomes ``_``."""
    short = pg_type
    for long, replacement in _SHORT_TYPES:
        if short.startswith(long):
            short = replacement + short[len(long) :]
            break
    return re.sub(r"\s+", "_", short.replace('"', ""))


def _entity(name: str) -> str:
    return name if _PLAIN_NAME.match(name) else f'"{_text(name)}"'


def _label(text: str) -> str:
    return _text(text)


def _attribute_name(name: str) -> str:
    return name if _PLAIN_NAME.match(name) else f"`{_text(name)}`"


# Mermaid's entity codes: a name keeps its quotes, backticks and angle brackets (which Mermaid would
# otherwise end a string at, or sanitize away as markup) and reads the same once drawn.
_CODES = (("#", "#35;"), ('"', "#quot;"), ("`", "#96;"), ("<", "#lt;"), (">", "#gt;"))


def _text(text: str) -> str:
    for char, code in _CODES:
        text = text.replace(char, code)
    return text


def erd(url: DatabaseURL, *, schema: str | None = SCHEMA) -> ErDiagram:
    """The app's tables (not alembic_version or todoctl_*) and their foreign keys."""
    with connection(url) as conn:
        # A diagram of a half-migrated schema would document tables the app does not have.
        require_head(conn, url.display, "schema erd")
        snap = catalog.snapshot(conn, schema)
        keys = [k for k in foreign_keys(conn, schema) if k.table in snap.tables and k.references_table in snap.tables]
        indexes = [i for i in index_details(conn, schema) if i.table in snap.tables]

    unique_sets: dict[str, list[set[str]]] = {}
    primary: dict[str, set[str]] = {}
    for index in indexes:
        if index.unique and index.valid and index.predicate is None and None not in index.columns:
            unique_sets.setdefault(index.table, []).append(set(index.columns))
            if index.primary:
                primary[index.table] = set(index.columns)

    entities = []
    for name in sorted(snap.tables):
        table = snap.tables[name]
        fk_columns = {c for k in keys if k.table == name for c in k.columns}
        attributes = []
        for column in table.columns.values():
            marks = []
            if column.name in primary.get(name, set()):
                marks.append("PK")
            if column.name in fk_columns:
                marks.append("FK")
            if "PK" not in marks and {column.name} in unique_sets.get(name, []):
                marks.append("UK")
            attributes.append(Attribute(column.name, mermaid_type(column.type), tuple(marks)))
        entities.append(Entity(name, tuple(attributes)))

    relations = []
    for key in keys:
        columns = snap.tables[key.table].columns
        nullable = any(columns[c].nullable for c in key.columns)
        unique = set(key.columns) in unique_sets.get(key.table, [])
        relations.append(
            Relation(
                parent=key.references_table,
                child=key.table,
                columns=key.columns,
                parent_cardinality="zero or one" if nullable else "exactly one",
                child_cardinality="zero or one" if unique else "zero or more",
                identifying=set(key.columns) <= primary.get(key.table, set()),
                on_delete=key.on_delete,
                references=key.references_columns,
            )
        )
    relations.sort(key=lambda r: (r.parent, r.child, r.columns))
    return ErDiagram(url.display, entities, relations)
