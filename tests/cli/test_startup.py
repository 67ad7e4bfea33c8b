"""`todoctl --help` stays light: no SQLAlchemy, SQLModel, Alembic, Faker or psycopg."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "faker", "psycopg", "numpy")


def imported_modules(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "todoctl", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    modules = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    assert modules, "python -X importtime printed nothing"
    return modules


@pytest.mark.parametrize(
    "args", [("--help",), ("migrate", "--help"), ("db", "--help"), ("seed", "--help"), ("explain", "--help"), ("health", "--help")]
)
def test_help_imports_no_heavy_module(args):
    from typer.main import get_command

    from todoctl.cli.app import app

    if args[0] != "--help" and args[0] not in get_command(app).commands:  # type: ignore[attr-defined]
        pytest.skip(f"no {args[0]} command yet")
    modules = imported_modules(*args)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


@pytest.mark.parametrize("args", [("--help",), ("explain", "--help"), ("explain", "run", "--help"), ("schema", "erd", "--help")])
def test_help_reads_no_page_bundle(args):
    """The HTML pages' code and their bundles (megabytes of JavaScript) load only when a page is written."""
    modules = imported_modules(*args)
    assert sorted(m for m in modules if m.startswith(("todoctl.render.html", "todoctl.render.erd_svg"))) == []
