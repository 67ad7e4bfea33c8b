"""mask_literals: other sessions' SQL with every constant and comment masked by libpg_query's lexer."""

from __future__ import annotations

import pytest

from todoctl.core.sessions.query_text import mask_literals


@pytest.mark.parametrize(
    ("sql", "masked"),
    [
        ("ALTER ROLE app PASSWORD 'hunter2'", "ALTER ROLE app PASSWORD '…'"),
        ("SELECT * FROM t WHERE id = 42 AND score > 1.5e3", "SELECT * FROM t WHERE id = ? AND score > ?"),
        ("SELECT 'it''s', 'x'", "SELECT '…', '…'"),
        # An escaped quote inside E'' does not end the string.
        (r"SELECT E'tok\'en-secret' FROM t", "SELECT '…' FROM t"),
        ("SELECT U&'d\\0061t\\+000061' AS u", "SELECT '…' AS u"),
        ("SELECT B'1010', X'DEADBEEF'", "SELECT '…', '…'"),
        # Dollar quotes, plain and tagged, with quotes inside them.
        ("SELECT $$it's a 'secret'$$, $tag$ $$ nested $$ $tag$", "SELECT '…', '…'"),
        # Quotes in comments are not strings; the comments themselves are hidden too.
        ("SELECT 1 -- don't 'leak' me\nFROM t", "SELECT ? /*…*/\nFROM t"),
        ("SELECT /* token='abc' */ name FROM users", "SELECT /*…*/ name FROM users"),
        # Non-ASCII before and inside literals: offsets are characters, not bytes.
        ("SELECT 'ключ-secret', name FROM ünïcode WHERE x = 'é€'", "SELECT '…', name FROM ünïcode WHERE x = '…'"),
        # Identifiers (even quoted ones with a quote inside) and parameters stay.
        ("SELECT \"we'ird\" FROM t WHERE id = $1", "SELECT \"we'ird\" FROM t WHERE id = $1"),
        ("INSERT INTO t VALUES (-7, 'a'); SELECT 'b'", "INSERT INTO t VALUES (-?, '…'); SELECT '…'"),
    ],
)
def test_literals_and_comments_are_masked(sql, masked):
    assert mask_literals(sql) == masked


@pytest.mark.parametrize(
    ("sql", "masked"),
    [
        # Cut by track_activity_query_size inside a quote: what follows the quote is never shown.
        ("ALTER ROLE app PASSWORD 'hunter2-trunc", "ALTER ROLE app PASSWORD …"),
        ("SELECT 'ok', 'é-cut-secr", "SELECT '…', …"),
        ("SELECT $$ dollar-secret", "SELECT …"),
        ("SELECT E'esc\\'still-secret", "SELECT …"),
        ("SELECT 1 /* unterminated secret", "SELECT ? …"),
        ("'secret-from-the-start", "…"),
    ],
)
def test_text_cut_inside_a_literal_keeps_only_what_scans(sql, masked):
    assert mask_literals(sql) == masked


def test_invalid_sql_still_masks_its_literals():
    # Not SQL the parser accepts, but the lexer reads it: tokens stay, constants go.
    assert mask_literals("FOO BAR 'secret' )))") == "FOO BAR '…' )))"
    assert mask_literals("<insufficient privilege>") == "<insufficient privilege>"


def test_empty_and_missing_text_pass_through():
    assert mask_literals(None) is None
    assert mask_literals("") == ""
    assert mask_literals("   ") == "   "


def test_secret_never_survives_on_any_prefix():
    # Every prefix of a statement (what truncation can leave) is masked without leaking the secret.
    sql = "UPDATE users SET token = E'abc\\'SECRETVALUE', note = $q$SECRETVALUE$q$ /* SECRETVALUE */ WHERE id = 1"
    for end in range(len(sql) + 1):
        assert "SECRETVALUE" not in (mask_literals(sql[:end]) or ""), sql[:end]
