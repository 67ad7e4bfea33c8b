"""Generate each command's JSON Schema from its result type (pydantic), and write or compare the files.

    python -m todoctl.json_schemas.generate          # rewrite todoctl/json_schemas/*.schema.json
    python -m todoctl.json_schemas.generate --check  # exit 1 if a committed file differs

The rules render/document.py serialises by are the rules here: a dataclass's fields in order,
without ``human_only()`` ones, then its ``__json_properties__`` (typed by the property's return
annotation); a ``__json__()`` method's return annotation stands for its value; objects are closed
(``additionalProperties: false``), so a key the type does not declare fails validation.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
import typing
import warnings
from typing import Any

from todoctl import json_schemas
from todoctl.render.document import SCHEMA_VERSION
from todoctl.results import DESCRIPTION, in_json

# command -> the result types its document can be (a --dry-run is another type). Every command
# with --json is here (tests/cli/test_json_contract.py checks); error.schema.json is the one
# hand-written schema (the error document is not a result).
_RUN = "todoctl.core.migrate.runner:MigrationRun"
_PLAN = "todoctl.core.migrate.plan:MigrationPlan"
_SQL = "todoctl.core.migrate.offline:OfflineSQL"

RESULTS: dict[str, tuple[str, ...]] = {
    "version": ("todoctl.core.db.versions:VersionReport",),
    "init": ("todoctl.core.init:InitPlan",),
    "db status": ("todoctl.core.db.server:ServerStatus",),
    "db start": ("todoctl.core.db.server:ServerStatus", "todoctl.core.db.server:DryRun"),
    "db stop": ("todoctl.core.db.server:Stopped", "todoctl.core.db.server:DryRun"),
    "db protection": ("todoctl.core.safety.protect:Protection",),
    "db protect": ("todoctl.core.safety.protect:Protection", "todoctl.core.db.server:DryRun"),
    "db unprotect": ("todoctl.core.safety.protect:Protection", "todoctl.core.db.server:DryRun"),
    "db cancel": ("todoctl.core.db.sessions:SignalResult", "todoctl.core.db.server:DryRun"),
    "db wait": ("todoctl.core.db.wait:WaitResult",),
    # up/down/reset/stamp: the run, its --dry-run plan; up/down --sql: the SQL.
    "migrate up": (_RUN, _PLAN, _SQL),
    "migrate down": (_RUN, _PLAN, _SQL),
    "migrate reset": (_RUN, _PLAN),
    "migrate stamp": (_RUN, _PLAN),
    "migrate status": ("todoctl.core.migrate.state:MigrationStatus",),
    "migrate current": ("todoctl.core.migrate.alembic_words:CurrentRevision",),
    "migrate history": ("todoctl.core.history:RevisionList",),
    "migrate heads": ("todoctl.core.history:Heads",),
    "migrate check": ("todoctl.core.migrate.gates:MigrationCheck",),
    "migrate verify": ("todoctl.core.migrate.roundtrip:VerifyReport",),
    "migrate new": ("todoctl.core.migrate.authoring:NewRevision",),
    "migrate merge": ("todoctl.core.migrate.authoring:NewRevision",),
    "migrate sql": (_SQL,),
    "migrate lint": ("todoctl.core.migrate.gates:LintReport",),
    "schema show": ("todoctl.core.schema.show:SchemaOverview", "todoctl.core.schema.show:TableDetail"),
    "schema diff": ("todoctl.core.schema.diff:SchemaDiff",),
    "schema dump": ("todoctl.core.schema.pgdump:SchemaDump",),
    "schema erd": ("todoctl.core.schema.mermaid:ErDiagram",),
    "schema lint": ("todoctl.core.schema.lint_report:LintReport",),
    "seed": ("todoctl.core.seed.job:SeedReport",),
    "explain list": ("todoctl.named_queries:QueryList",),
    "explain show": ("todoctl.core.explain.statement:QueryDetail",),
    "explain run": ("todoctl.core.explain.execute:ExplainResult",),
    "explain sql": ("todoctl.core.explain.execute:ExplainResult",),
    "explain check": ("todoctl.core.explain.budget:CheckReport",),
    "explain baseline save": ("todoctl.core.explain.baseline:BaselineSaved",),
    "health": ("todoctl.core.health.report:HealthReport",),
    "health thresholds": ("todoctl.core.health.thresholds:ThresholdList",),
    "review": ("todoctl.core.review.engine:ReviewReport",),
}

ENVELOPE = {
    "schema_version": {"const": SCHEMA_VERSION},
    "command": {"type": "string"},
    "ok": {"type": "boolean"},
    "status": {"enum": ["ok", "warn", "fail"]},
    "target_database": {
        "type": "object",
        "properties": {k: {"type": ["string", "null"]} for k in ("url", "name", "source", "origin")},
        "required": ["url", "name", "source", "origin"],
        "additionalProperties": False,
    },
}


def _load(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _document_class(cls: type) -> dict[str, tuple[Any, str | None]]:
    """The fields and properties the document of ``cls`` has: name -> (type, description)."""
    hints = typing.get_type_hints(cls)
    annotations = {f.name: (hints[f.name], f.metadata.get(DESCRIPTION)) for f in dataclasses.fields(cls) if in_json(f)}
    for name in getattr(cls, "__json_properties__", ()):
        annotations[name] = (typing.get_type_hints(getattr(cls, name).fget)["return"], None)
    return annotations


def body_schema(cls: type) -> dict:
    """The JSON Schema of ``cls`` as render/document.py serialises it (definitions inlined under $defs)."""
    from pydantic import Field, TypeAdapter, create_model

    models: dict[type, Any] = {}

    def convert(tp):
        origin = typing.get_origin(tp)
        if origin is not None:
            args = tuple(convert(a) for a in typing.get_args(tp))
            if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
                return typing.Union[args]
            try:
                return origin[args] if len(args) > 1 else origin[args[0]]
            except TypeError:
                return tp
        if isinstance(tp, type) and hasattr(tp, "__json__"):
            return convert(typing.get_type_hints(tp.__json__)["return"])
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            if tp not in models:
                models[tp] = None
                fields = {name: (convert(t), Field(description=text)) for name, (t, text) in _document_class(tp).items()}
                models[tp] = create_model(tp.__name__, __config__={"extra": "forbid"}, **fields)
            # A type that contains itself (a plan node's children) refers to itself by name.
            return models[tp] if models[tp] is not None else tp.__name__
        return tp

    with warnings.catch_warnings():  # a field named like a BaseModel attribute (TableDetail.schema) is fine here
        warnings.filterwarnings("ignore", message="Field name .* shadows an attribute", category=UserWarning)
        root = convert(cls)
        names = {model.__name__: model for model in models.values()}
        for model in models.values():
            model.model_rebuild(force=True, _types_namespace=names)
        return TypeAdapter(root).json_schema(mode="serialization")


def command_schema(command: str) -> dict:
    bodies = []
    defs: dict = {}
    for path in RESULTS[command]:
        body = body_schema(_load(path))
        defs.update(body.pop("$defs", {}))
        # build() moves a result's own ok, status and target_database into the envelope: the
        # envelope's definition of them is what the document has.
        properties = {**ENVELOPE, **{k: v for k, v in body.get("properties", {}).items() if k not in ENVELOPE}}
        required = list(dict.fromkeys(["schema_version", "command", "ok", "status", *body.get("required", [])]))
        bodies.append({"type": "object", "properties": properties, "required": required, "additionalProperties": False})
    schema: dict = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": f"todoctl {command} --json"}
    schema.update(bodies[0] if len(bodies) == 1 else {"anyOf": bodies})
    if defs:
        schema["$defs"] = defs
    return schema


def main(argv: list[str]) -> int:
    stale = []
    for command in RESULTS:
        text = json.dumps(command_schema(command), indent=2) + "\n"
        path = json_schemas.path(command)
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if stale:
        sys.stderr.write(f"stale: {', '.join(stale)}; run python -m todoctl.json_schemas.generate\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
