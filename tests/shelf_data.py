"""shelf filled with plain SQL (INSERT ... SELECT generate_series), until the generic seed lands.

Realistic shapes for explain, health and review: a few heavy readers among many, a category tree
three levels deep, books with keywords, most loans returned and a few overdue, Argon2 hashes.
Deterministic: the same counts give the same rows (timestamps are relative to now()).
"""

from __future__ import annotations

WORDS = (
    "river stone garden winter harbour lantern meadow orchard silver thunder shadow window "
    "forest candle mirror island letter journey castle ember feather compass valley tide"
).split()
KEYWORDS = (
    "history science poetry travel cooking crime fantasy biography art music nature sea war "
    "childhood philosophy economics physics chess gardening architecture film myth law maps "
    "medicine astronomy sailing birds trains language"
).split()


def _array(words: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{w}'" for w in words) + "]"


def statements(readers: int = 2_000, books: int = 20_000, loans: int = 60_000) -> list[str]:
    readers, books, loans = int(readers), int(books), int(loans)
    words, keywords = _array(WORDS), _array(KEYWORDS)
    return [
        # Argon2id hashes in the PHC string format (made-up digests: the format is what review judges).
        f"""
        INSERT INTO "user" (email, full_name, hashed_password, role, is_active, created_at)
        SELECT 'reader' || g || '@shelf.example', 'Reader ' || g,
               '$argon2id$v=19$m=65536,t=3,p=4$'
               || rtrim(encode(substr(sha256(convert_to('salt' || g, 'UTF8')), 1, 16), 'base64'), '=') || '$'
               || rtrim(encode(sha256(convert_to('pw' || g, 'UTF8')), 'base64'), '='),
               (CASE WHEN g % 100 = 0 THEN 'librarian' ELSE 'reader' END)::user_role,
               g % 40 <> 0, now() - g * interval '1 hour'
        FROM generate_series(1, {readers}) AS g
        """,
        # The tree: 'General' (from the data migration), 8 shelves of 5 sections of 3 rows each.
        "INSERT INTO category (name, parent_id) SELECT 'Shelf ' || g, NULL FROM generate_series(1, 8) AS g",
        "INSERT INTO category (name, parent_id) SELECT 'Section ' || s, c.id FROM category AS c, "
        "generate_series(1, 5) AS s WHERE c.parent_id IS NULL AND c.name LIKE 'Shelf %'",
        "INSERT INTO category (name, parent_id) SELECT 'Row ' || r, c.id FROM category AS c "
        "JOIN category AS p ON p.id = c.parent_id, generate_series(1, 3) AS r WHERE p.parent_id IS NULL",
        "INSERT INTO author (name, born) SELECT 'Author ' || g, date '1900-01-01' + g * 7 FROM generate_series(1, 3000) AS g",
        f"""
        WITH leaves AS (SELECT array_agg(id ORDER BY id) AS ids FROM category AS c
                        WHERE NOT EXISTS (SELECT 1 FROM category AS k WHERE k.parent_id = c.id))
        INSERT INTO book (title, isbn, price, pages, published_on, details, keywords, category_id)
        SELECT initcap(({words})[1 + g % 24]) || ' ' || ({words})[1 + (g / 24) % 24] || ' ' || g,
               lpad(g::text, 13, '0'), 1 + (g % 5000) / 100.0, 50 + g % 900, date '1950-01-01' + g % 25000,
               jsonb_build_object('edition', 1 + g % 3),
               CAST(ARRAY[({keywords})[1 + g % 30], ({keywords})[1 + (g * 7) % 29]] AS varchar(50)[]),
               leaves.ids[1 + g % array_length(leaves.ids, 1)]
        FROM generate_series(1, {books}) AS g, leaves
        """,
        f"INSERT INTO bookauthorlink (book_id, author_id) SELECT g, 1 + g % 3000 FROM generate_series(1, {books}) AS g",
        f"INSERT INTO bookauthorlink (book_id, author_id) SELECT g, 1 + (g * 13 + 1) % 3000 FROM generate_series(1, {books}, 4) AS g "
        "ON CONFLICT DO NOTHING",
        # One loan every 7 minutes going back in time; a tenth of them by 20 heavy readers. Loans
        # younger than their 14 days are open; one in fifty was never returned (overdue if old).
        f"""
        INSERT INTO loan (book_id, user_id, borrowed_at, due_at, returned_at)
        SELECT 1 + (g::bigint * 7919) % {books},
               CASE WHEN g % 10 = 0 THEN 1 + g % 20 ELSE 1 + (g * 31) % {readers} END,
               now() - g * interval '7 minutes',
               now() - g * interval '7 minutes' + interval '14 days',
               CASE WHEN g % 50 = 0 OR g * 7 < 14 * 24 * 60 THEN NULL
                    ELSE now() - g * interval '7 minutes' + interval '5 days' END
        FROM generate_series(1, {loans}) AS g
        """,
        'ANALYZE "user", category, author, book, bookauthorlink, loan',
    ]


def fill(pg, database: str, **counts: int) -> None:
    """Fill a database at shelf's head (``pg``: the tests' Server)."""
    for statement in statements(**counts):
        pg.execute(statement, database=database)
