"""An app whose tables all live in schema `shop` (tests/apps/shop), not the default schema: every
command covers the schemas the app's models name, and names those tables `shop.name` (attack F5,
F6, F7, F10, F11, F13)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings

import pytest
from typer.testing import CliRunner

from tests.conftest import SHOP
from todoctl.cli.app import app

runner = CliRunner()
TABLES = {"shop.user", "shop.product", "shop.order", "shop.order_line"}


def run(url, *args: str, project=SHOP):
    if project != SHOP:
        # A changed copy imports its own `shop` package: a process of its own, not this one's module cache.
        done = subprocess.run([sys.executable, "-m", "todoctl", "--project", str(project), "-d", url.url, *args],
                              capture_output=True, text=True, timeout=300)
        done.exit_code, done.output = done.returncode, done.stdout + done.stderr
        return done
    return runner.invoke(app, ["--project", str(project), "-d", url.url, *args])


@pytest.fixture
def shop_copy(tmp_path):
    """A copy of the app to change (its models, its history)."""
    copy = tmp_path / "shop"
    shutil.copytree(SHOP, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_check_diff_and_verify_agree_right_after_up(shop_db):
    check = run(shop_db, "migrate", "check", "--json")
    assert check.exit_code == 0, check.output
    assert json.loads(check.output)["differences"] == []
    diff = run(shop_db, "schema", "diff", "--against", "history")
    assert diff.exit_code == 0, diff.output
    verify = run(shop_db, "migrate", "verify", "--json")
    assert verify.exit_code == 0, verify.output
    assert json.loads(verify.output)["ok"] is True


def test_a_leftover_in_the_apps_schema_is_drift(shop_db, pg):
    pg.execute("CREATE TABLE shop.leftover (id int)", database=shop_db.database)
    result = run(shop_db, "migrate", "check", "--json")
    assert result.exit_code == 1, result.output
    tables = {d["table"] for d in json.loads(result.output)["differences"]}
    assert "shop.leftover" in tables, result.output


def test_an_unknown_column_type_gives_no_sqlalchemy_warning(shop_db, pg):
    pg.execute("CREATE TYPE shop.span AS RANGE (subtype = float8); CREATE TABLE shop.spans (r shop.span)",
               database=shop_db.database)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(shop_db, "migrate", "check", "--json")
    assert result.exit_code == 1, result.output
    assert "shop.spans" in {d["table"] for d in json.loads(result.output)["differences"]}
    assert not [w for w in caught if "Did not recognize type" in str(w.message)]


def test_schema_show_erd_and_lint_see_the_apps_tables(shop_db):
    shown = run(shop_db, "schema", "show", "--json")
    assert shown.exit_code == 0, shown.output
    assert TABLES <= {t["name"] for t in json.loads(shown.output)["tables"]}
    one = run(shop_db, "schema", "show", "shop.order", "--json")
    assert one.exit_code == 0, one.output
    detail = json.loads(one.output)
    assert detail["schema"] == "shop" and "status" in {c["name"] for c in detail["columns"]}
    assert {k["table"] for k in detail["foreign_keys_in"]} == {"shop.order_line"}
    erd = run(shop_db, "schema", "erd")
    assert erd.exit_code == 0, erd.output
    assert '"shop.order" ||--o{ "shop.order_line"' in erd.output
    lint = run(shop_db, "schema", "lint", "--json")
    assert lint.exit_code == 1, lint.output  # order_line.sku: a foreign key with no index leading with it
    findings = json.loads(lint.output)["findings"]
    assert any(f["table"] == "shop.order_line" and f["rule"] == "fk-without-index" for f in findings), findings


def test_review_judges_the_apps_tables(shop_db):
    result = run(shop_db, "review", "--json")
    assert result.exit_code in (0, 1), result.output
    assert "KeyError" not in result.output
    document = json.loads(result.output)
    soft = [f for f in document["findings"] if f["rule"] == "soft-delete"]
    assert {f["location"] for f in soft} == {"shop.order", "shop.user"}, soft
    assert all('ALTER TABLE shop."order"' in f["sql"] or 'ALTER TABLE shop."user"' in f["sql"] for f in soft)


def test_new_after_a_model_change_alters_only_what_changed(shop_copy, pg):
    url = pg.url_for(pg.create_database())
    assert run(url, "migrate", "up", project=shop_copy).exit_code == 0
    models = shop_copy / "shop" / "models.py"
    models.write_text(models.read_text().replace("    price: float\n", "    price: float\n    name: Optional[str] = None\n"))
    new = run(url, "migrate", "new", "-m", "product name", project=shop_copy)
    assert new.exit_code == 0, new.output
    (written,) = [p for p in (shop_copy / "shop" / "migrations" / "versions").glob("*.py") if "product_name" in p.name]
    text = written.read_text()
    assert "create_table" not in text, text
    assert "op.add_column('product'" in text and "schema='shop'" in text, text
    up = run(url, "migrate", "up", project=shop_copy)
    assert up.exit_code == 0, up.output
    assert run(url, "migrate", "check", project=shop_copy).exit_code == 0
    down = run(url, "migrate", "down", "base", "--yes", project=shop_copy)
    assert down.exit_code == 0, down.output
    left = pg.execute(
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'shop' "
        "AND t.typtype = 'e' UNION ALL SELECT tablename FROM pg_tables WHERE schemaname = 'shop'",
        database=url.database,
    )
    assert left == []
    pg.drop_database(url.database)


def test_new_from_base_creates_and_drops_the_enum_in_its_schema(shop_copy, pg):
    for revision in (shop_copy / "shop" / "migrations" / "versions").glob("*.py"):
        revision.unlink()
    url = pg.url_for(pg.create_database())
    new = run(url, "migrate", "new", "-m", "initial", project=shop_copy)
    assert new.exit_code == 0, new.output
    (written,) = (shop_copy / "shop" / "migrations" / "versions").glob("*.py")
    text = written.read_text()
    assert """op.execute('DROP TYPE IF EXISTS "shop"."order_status"')""" in text, text
    pg.drop_database(url.database)
