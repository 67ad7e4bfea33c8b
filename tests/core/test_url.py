"""URL resolution, normalisation and masking (no database needed)."""

from __future__ import annotations

import pytest

from todoctl.db.url import configured_url, mask, normalise
from todoctl.errors import ExitCode, TodoctlError

SENTINEL = "s3cr3t-Sentinel-pw"


@pytest.mark.parametrize(
    "raw",
    [
        "postgres://u:p@h/db",
        "postgresql://u:p@h/db",
        "postgresql+psycopg2://u:p@h/db",
        "postgresql+asyncpg://u:p@h/db",
    ],
)
def test_urls_are_normalised_to_psycopg3(raw):
    assert normalise(raw, source="test").url.startswith("postgresql+psycopg://u:p@h/db")


def test_asyncpg_ssl_parameter_becomes_sslmode():
    url = normalise("postgresql+asyncpg://u:p@h/db?ssl=require", source="test")
    assert url.url.endswith("?sslmode=require")


@pytest.mark.parametrize("raw", ["garbage", "postgresql://u:p@h:notaport/db", "mysql://u:p@h/db", ""])
def test_bad_urls_exit_3_and_never_show_the_password(raw):
    raw = raw.replace("u:p@", f"u:{SENTINEL}@")
    with pytest.raises(TodoctlError) as caught:
        normalise(raw, source="DATABASE_URL")
    assert caught.value.exit_code == ExitCode.CONNECTION
    assert SENTINEL not in caught.value.message + (caught.value.hint or "")


def test_mask_hides_url_and_keyword_passwords():
    normalise(f"postgresql://me:{SENTINEL}@db.example.com/app", source="test")
    text = f"postgresql://me:{SENTINEL}@db.example.com/app password={SENTINEL} and {SENTINEL} alone"
    masked = mask(text)
    assert SENTINEL not in masked
    assert "postgresql://me:***@db.example.com/app" in masked


def test_pooled_url_detection_and_refusal_for_schema_changes(monkeypatch):
    pooled = "postgresql://u:p@ep-cool-123-pooler.eu-central-1.aws.neon.tech/app?sslmode=require"
    assert normalise(pooled, source="test").is_pooled
    with pytest.raises(TodoctlError) as caught:
        configured_url(pooled, direct=True)
    assert caught.value.exit_code == ExitCode.REFUSED
    assert "DATABASE_URL_UNPOOLED" in caught.value.hint

    monkeypatch.setenv("DATABASE_URL", pooled)
    monkeypatch.setenv("DATABASE_URL_UNPOOLED", pooled.replace("-pooler", ""))
    direct = configured_url(None, direct=True)
    assert not direct.is_pooled and direct.source == "DATABASE_URL_UNPOOLED"
    assert configured_url(None).is_pooled


def test_resolution_order_option_env_dotenv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert configured_url(None) is None  # → the embedded server
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://dot:env@dotenv-host/app\n")
    assert configured_url(None).host == "dotenv-host"
    assert configured_url(None).source == "DATABASE_URL (.env)"
    monkeypatch.setenv("DATABASE_URL", "postgresql://e:v@env-host/app")
    assert configured_url(None).host == "env-host"
    assert configured_url("postgresql://o:p@option-host/app").host == "option-host"
