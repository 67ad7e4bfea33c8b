"""URL resolution, normalisation and masking (no database needed)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from todoctl.db.target import configured_url
from todoctl.db.url import mask, normalise
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


# A password holding every character that ends a URL's host part early.
NASTY = "pa/ss#w?rd@x%y"
FRAGMENTS = ("Zqk1", "Xwv2", "Vut3", "Tsr4")  # each piece of the password below is distinctive


@pytest.mark.parametrize(
    "raw",
    [
        "postgresql://me:Zqk1/Xwv2#Vut3?Tsr4@db.example.com/app",
        "postgresql://me:Zqk1@Xwv2/Vut3@db.example.com/app",
        "postgresql://me:1234/Zqk1@db.example.com/app",  # would parse as host 'me', port 1234
        "postgresql://me:Zqk1#Xwv2@db.example.com/app",
        "postgresql://me:Zqk1?Xwv2@db.example.com/app",
    ],
)
def test_a_password_with_unescaped_reserved_characters_never_appears_in_the_error(raw):
    with pytest.raises(TodoctlError) as caught:
        normalise(raw, source="DATABASE_URL")
    error = caught.value
    assert error.exit_code == ExitCode.CONNECTION
    shown = error.message + (error.hint or "")
    assert "1234" not in shown
    for fragment in FRAGMENTS:
        assert fragment not in shown
    assert "postgresql://***@db.example.com/app" in error.message
    assert "percent-encode" in error.hint


def test_an_encoded_password_with_an_at_sign_reaches_libpq_whole():
    import psycopg.conninfo

    url = normalise("postgresql://me:p%40ss-Sentinel@db.example.com/app", source="test")
    parsed = psycopg.conninfo.conninfo_to_dict(url.libpq)
    assert (parsed["user"], parsed["password"], parsed["host"]) == ("me", "p@ss-Sentinel", "db.example.com")
    assert "ss-Sentinel" not in mask(f"failed: {url.url} and {url.libpq}")
    assert "ss-Sentinel" not in mask(url.url)


def test_an_unencoded_at_sign_in_the_password_is_refused_not_guessed():
    # libpq reads host 'ss-Sentinel@db.example.com', urllib host 'db.example.com': ambiguous.
    with pytest.raises(TodoctlError) as caught:
        normalise("postgresql://me:p@ss-Sentinel@db.example.com/app", source="DATABASE_URL")
    assert caught.value.exit_code == ExitCode.CONNECTION and "ss-Sentinel" not in caught.value.message


def test_mask_hides_an_unparseable_url_whole():
    assert mask("x postgresql://me:a/b#c?d@h/db y") == "x postgresql://*** y"


@pytest.mark.parametrize("source_value", ["", "   "])
def test_an_empty_explicit_url_is_an_error_not_the_embedded_server(source_value):
    with pytest.raises(TodoctlError) as caught:
        configured_url(source_value)
    assert caught.value.exit_code == ExitCode.CONNECTION


def test_child_processes_get_the_password_in_their_environment():
    encoded = quote(NASTY, safe="")
    url = normalise(f"postgresql://me:{encoded}@h:5432/app", source="test")
    conninfo, env = url.for_child_process()
    assert env == {"PGPASSWORD": NASTY}
    assert conninfo == "postgresql://me@h:5432/app"
    conninfo, env = normalise(f"postgresql://me@h/app?password={encoded}", source="test").for_child_process()
    assert env == {"PGPASSWORD": NASTY} and "password" not in conninfo
