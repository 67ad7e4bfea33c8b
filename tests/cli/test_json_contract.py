"""One JSON vocabulary: every command's --json document, run on a real database, matches its JSON
Schema (todoctl/json_schemas/<command>.schema.json) and the shared vocabulary of render/document.py.

Set TODOCTL_JSON_SAMPLES=DIR to also write each document to DIR (to review a schema change).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from tests.helpers import copy_migrations, revision_source
from todoctl import json_schemas
from todoctl.cli.app import app
from todoctl.render.document import SCHEMA_VERSION

runner = CliRunner()

# (schema name, database kind, arguments, exit code). Kinds: empty, migrated, seeded, none.
CASES = [
    ("version", "migrated", ["version"], 0),
    ("db-status", "migrated", ["db", "status"], 0),
    ("db-protection", "migrated", ["db", "protection"], 0),
    ("db-protect", "migrated", ["db", "protect", "--reason", "contract test"], 0),
    ("db-unprotect", "migrated", ["db", "unprotect", "--yes"], 0),
    ("db-wait", "migrated", ["db", "wait", "--timeout", "5"], 0),
    ("db-cancel", "migrated", ["db", "cancel", "{idle_pid}", "--yes"], 0),
    ("db-start", "none", ["db", "start"], 0),
    ("db-stop", "none", ["db", "stop"], 0),
    ("migrate-up", "empty", ["migrate", "up"], 0),
    ("migrate-up", "empty", ["migrate", "upgrade", "0003"], 0),
    ("migrate-down", "migrated", ["migrate", "down"], 0),
    ("migrate-stamp", "migrated", ["migrate", "stamp", "0006"], 0),
    ("migrate-reset", "migrated", ["migrate", "reset", "--yes"], 0),
    ("review", "seeded", ["review", "--strict"], 0),
    ("review", "none", ["review", "--offline"], 0),
    ("migrate-status", "migrated", ["migrate", "status"], 0),
    ("migrate-status", "empty", ["migrate", "status"], 1),
    ("migrate-current", "migrated", ["migrate", "current"], 0),
    ("migrate-heads", "none", ["migrate", "heads"], 0),
    ("migrate-history", "none", ["migrate", "history"], 0),
    ("migrate-check", "migrated", ["migrate", "check"], 0),
    ("migrate-check", "empty", ["migrate", "check"], 1),
    ("migrate-sql", "none", ["migrate", "sql", "base:head"], 0),
    ("migrate-lint", "none", ["migrate", "lint"], 0),
    ("migrate-verify", "migrated", ["migrate", "verify"], 0),
    ("migrate-new", "migrated", ["migrate", "new", "--empty", "-m", "contract test", "--migrations", "{migrations}"], 0),
    ("migrate-merge", "none", ["migrate", "merge", "-m", "join", "--migrations", "{two_heads}"], 0),
    ("migrate-new", "none", ["migrate", "new", "--empty", "-m", "contract", "--migrations", "{migrations}", "--dry-run"], 0),
    ("migrate-merge", "none", ["migrate", "merge", "-m", "join", "--migrations", "{two_heads}", "--dry-run"], 0),
    ("seed", "migrated", ["seed", "--profile", "small"], 0),
    ("health", "seeded", ["health"], 0),
    ("health", "seeded", ["health", "--probe", "3"], 0),
    ("health-thresholds", "none", ["health", "thresholds"], 0),
    ("schema-show", "seeded", ["schema", "show"], 0),
    ("schema-show", "seeded", ["schema", "show", "tasks"], 0),
    ("schema-diff", "migrated", ["schema", "diff"], 0),
    ("schema-diff", "migrated", ["schema", "diff", "--against", "history"], 0),
    ("schema-dump", "migrated", ["schema", "dump"], 0),
    ("schema-erd", "migrated", ["schema", "erd"], 0),
    ("schema-lint", "migrated", ["schema", "lint"], 0),
    ("explain-list", "none", ["explain", "list"], 0),
    ("explain-show", "none", ["explain", "show", "task-list"], 0),
    ("explain-show", "none", ["explain", "show", "complete-task"], 0),
    ("explain-run", "seeded", ["explain", "run", "task-list", "--runs", "2"], 0),
    ("explain-sql", "seeded", ["explain", "sql", "SELECT count(*) FROM tasks"], 0),
    ("explain-check", "seeded", ["explain", "check"], None),  # a budget may break on tiny data
    ("explain-baseline-save", "seeded", ["explain", "baseline", "save", "{tmp}/plans.json"], 0),
    ("error", "migrated", ["migrate", "up", "no-such-revision"], 2),
    ("error", "none", ["health", "--check", "no-such-check"], 2),
]


def _ids():
    return [" ".join(args) + f" [{kind}]" for _, kind, args, _ in CASES]


@pytest.fixture
def database(request):
    kind = request.param
    if kind == "seeded":
        return request.getfixturevalue("seeded_db")("small")
    return request.getfixturevalue("empty_db" if kind == "empty" else "migrated_db")


def _fill(args: list[str], tmp_path: Path, idle) -> list[str]:
    """The placeholders of CASES: a temporary folder, a copy of the migrations, an idle session's pid."""
    out = []
    for arg in args:
        if arg == "{migrations}":
            arg = str(copy_migrations(tmp_path))
        elif arg == "{two_heads}":
            branch = revision_source("b001", "0006", "pass")
            arg = str(copy_migrations(tmp_path, {"b001_branch.py": branch}))
        elif arg == "{idle_pid}":
            arg = str(idle().info.backend_pid)
        out.append(arg.replace("{tmp}", str(tmp_path)))
    return out


def run_json(url, args: list[str]):
    result = runner.invoke(app, ["-d", url.url, *args, "--json"], env={"COLUMNS": "80", "TODOCTL_ALLOW_PRODUCTION": ""})
    return result


@pytest.mark.parametrize(("schema", "database", "args", "code"), CASES, ids=_ids(), indirect=["database"])
def test_every_document_matches_its_schema_and_the_vocabulary(schema, database, args, code, tmp_path):
    import jsonschema

    connections = []

    def idle():
        conn = psycopg.connect(database.libpq, autocommit=True)
        connections.append(conn)
        return conn

    try:
        result = run_json(database, _fill(args, tmp_path, idle))
    finally:
        for conn in connections:
            conn.close()
    if code is not None:
        assert result.exit_code == code, result.output
    document = json.loads(result.stdout)
    _save_sample(schema, [*args, f"exit-{result.exit_code}"], document)

    jsonschema.Draft202012Validator(json_schemas.load(schema)).validate(document)
    assert_vocabulary(document)
    if schema != "error":
        assert document["command"] == json_schemas.command_of(schema)


def assert_vocabulary(document: dict) -> None:
    """The shared rules, checked on every key of every document."""
    assert list(document)[:2] == ["schema_version", "command"] or list(document)[:1] == ["schema_version"]
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["status"] in {"ok", "warn", "fail"} and document["ok"] is (document["status"] != "fail")
    assert "database" not in document  # target_database says it, once
    if "target_database" in document:
        assert set(document["target_database"]) == {"url", "name", "source", "origin"}
    for path, key, value in _walk(document):
        where = f"{path}.{key}"
        if not path.endswith(".queries") or isinstance(value, (list, str)):  # baseline entries by query name
            assert_key_in_vocabulary(where, key, _FORBIDDEN_IN_OUTPUT)
        if isinstance(value, float):
            decimals = 3 if key.endswith("_ms") else 4
            assert value == round(value, decimals), f"{where} = {value} is not rounded to {decimals} decimals"
        if (key == "ratio" or key.endswith("_ratio") or key == "share") and value is not None:
            assert 0 <= value <= 1, f"{where} = {value} is not a ratio 0-1"
        if key.endswith("_bytes") and value is not None:
            assert isinstance(value, int), where
        if key == "status" and isinstance(value, str) and path.count(".") <= 2:
            assert value in {"ok", "warn", "fail", "skip"}, where


_DATA_KEYS = {"plan", "bindings", "params", "table_rows", "by_state", "conditions", "hints", "settings", "packages", "sampled"}


def _walk(value, path: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            if key not in _DATA_KEYS:
                yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, path + "[]")


def _save_sample(schema: str, args: list[str], document: dict) -> None:
    folder = os.environ.get("TODOCTL_JSON_SAMPLES")
    if not folder:
        return
    target = Path(folder) / schema
    target.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^a-z0-9]+", "-", " ".join(args).lower()).strip("-")[:60]
    (target / f"{name}.json").write_text(json.dumps(document, indent=2))


def test_every_command_with_json_has_a_schema():
    """A new command with --json needs its schema file (and this list of cases)."""
    from todoctl.cli.app import app as root
    from typer.main import get_command

    names = set()

    def visit(command, words):
        for name, sub in getattr(command, "commands", {}).items():
            visit(sub, [*words, name])
        if any(getattr(p, "name", None) == "as_json" for p in getattr(command, "params", [])):
            names.add("-".join(words))

    visit(get_command(root), [])
    aliases = {"migrate-upgrade", "migrate-downgrade"}
    from todoctl.json_schemas import generate

    untyped = {n for n in names - aliases if json_schemas.command_of(n) not in generate.RESULTS}
    assert not untyped, f"add each command's result type to todoctl/json_schemas/generate.py RESULTS: {sorted(untyped)}"
    files = {p.name.removesuffix(".schema.json") for p in json_schemas.directory().glob("*.schema.json")}
    assert files == {n.replace(" ", "-") for n in generate.RESULTS} | {"error"}, "a schema file without a command (or the reverse)"


def test_the_schemas_are_valid_json_schema():
    import jsonschema

    for path in json_schemas.directory().glob("*.schema.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_the_generated_schemas_are_the_committed_files():
    """Each typed command's schema is generated from its result type: the committed file is that output."""
    from todoctl.json_schemas import generate

    for command in generate.RESULTS:
        expected = json.dumps(generate.command_schema(command), indent=2) + "\n"
        assert json_schemas.path(command).read_text() == expected, f"run python -m todoctl.json_schemas.generate ({command})"


# The vocabulary's rules for a key, wherever it is in a schema (properties of any object).
_FORBIDDEN_KEYS = {"seconds", "percent", "bytes", "head", "drift", "total_size", "size", "id", "database"}
_OLD_SUFFIXES = re.compile(r"(_seconds|_s|_pct|_percent|_kb|_mb)$")


def _schema_keys(node, path="$"):
    if isinstance(node, dict):
        for key, sub in (node.get("properties") or {}).items():
            yield f"{path}.{key}", key
            yield from _schema_keys(sub, f"{path}.{key}")
        for key, sub in node.items():
            if key != "properties":
                yield from _schema_keys(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for item in node:
            yield from _schema_keys(item, path)


def _all_schemas():
    return sorted(p.name.removesuffix(".schema.json") for p in json_schemas.directory().glob("*.schema.json"))


# In real output, open objects (a check's details) may name another database or an object's id.
_FORBIDDEN_IN_OUTPUT = _FORBIDDEN_KEYS - {"id", "database"}


def assert_key_in_vocabulary(where: str, key: str, forbidden: set[str] = _FORBIDDEN_KEYS) -> None:
    """The vocabulary's rules for one key: snake_case, no retired name, the unit in the suffix."""
    assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", key), f"{where}: not snake_case"
    assert key not in forbidden, f"{where}: {key!r} is not in the vocabulary (a revision is `revision`)"
    assert not _OLD_SUFFIXES.search(key), f"{where}: durations end _ms, sizes _bytes, ratios _ratio"


@pytest.mark.parametrize("name", _all_schemas())
def test_no_schema_has_a_key_outside_the_vocabulary(name):
    """Every key a schema declares, at any depth (references to $defs included), follows the
    vocabulary. Every schema but error's is generated from its result type."""
    for where, key in _schema_keys(json_schemas.load(name)):
        assert_key_in_vocabulary(where, key)


def _open_objects(node, path="$"):
    """The objects a schema leaves open (``additionalProperties`` not false): their paths."""
    if isinstance(node, dict):
        if node.get("type") == "object" and node.get("additionalProperties", True) is not False:
            yield path
        for key, sub in node.items():
            yield from _open_objects(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for item in node:
            yield from _open_objects(item, path)


# Objects whose keys are data, not vocabulary: a health check's details (each check its own keys,
# documented as an open object), the thresholds by name, plan nodes and scans, settings and startup
# options by name, baseline entries by query name, init's [tool.todoctl] table and how each key was
# found. Open in their schema; their keys are checked on real output by assert_vocabulary unless
# they are data (_DATA_KEYS).
_OPEN = re.compile(
    r"/(details|thresholds|plan|scans|conditions|packages|bindings|params|table_rows|by_state|settings|startup|sampled|phases_ms|budget|hints|summary|queries|table|found)(/|$)"
)


@pytest.mark.parametrize("name", _all_schemas())
def test_every_open_object_is_a_known_data_map(name):
    """A schema's objects are closed (a key the type does not declare fails validation), except
    maps whose keys are data: a new open object is a result field typed too loosely."""
    for path in _open_objects(json_schemas.load(name)):
        assert path == "$" or _OPEN.search(path.replace("/properties/", "/")), f"{name}: {path} is an open object"
