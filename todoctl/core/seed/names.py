"""Realistic values by a column's name and type, where the name says what it holds.

``guess`` returns the generator for a column no profile setting, key or CHECK decides: people's
names and emails agree within a row, ``*_hash`` columns hold real hash formats, ``created_at``
follows the parent's and precedes ``updated_at``, prices are lognormal, ``position`` counts the
rows of a parent, and so on. A name that says nothing gets a value of its type.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from todoctl.core.seed.documents import array, documents
import todoctl.core.seed.generators as g
from todoctl.core.seed.password_hashes import is_password, password_hash
import todoctl.core.seed.value_generators as vg

from todoctl.core.time_names import CREATED, STARTS, UPDATED, says_started, tokens  # noqa: F401 - seed modules import them from here
FUTURE = {"due", "deadline", "expires", "expiry", "expiration", "scheduled", "until", "ends", "end", "renews", "next"}
BIRTH = {"birth", "birthday", "birthdate", "dob", "born"}
# Timestamps that mark something that happened to few rows: mostly NULL when the column allows it.
RARE_EVENTS = {"deleted", "archived", "canceled", "cancelled", "banned", "revoked", "closed", "completed", "resolved",
               "ended", "finished", "suspended", "expired", "locked", "disabled", "removed", "refunded", "failed"}  # fmt: skip
PERSON_TABLES = {"user", "users", "person", "people", "persons", "member", "members", "customer", "customers",
                 "employee", "employees", "author", "authors", "contact", "contacts", "account", "accounts",
                 "profile", "profiles", "student", "students", "patient", "patients", "owner", "owners",
                 "reader", "readers", "client", "clients", "staff", "teacher", "teachers", "player", "players"}  # fmt: skip
COMPANY_TABLES = {"company", "companies", "organization", "organizations", "organisation", "organisations",
                  "org", "orgs", "team", "teams", "vendor", "vendors", "supplier", "suppliers", "publisher",
                  "publishers", "brand", "brands", "tenant", "tenants", "workspace", "workspaces"}  # fmt: skip
PLACE_TABLES = {"city": "city", "cities": "city", "country": "country", "countries": "country"}
TRUE_MOSTLY = {"active", "enabled", "verified", "confirmed", "visible", "published", "public", "available", "approved",
               "subscribed", "valid", "stock", "current"}  # fmt: skip
TRUE_RARELY = {"deleted", "archived", "banned", "blocked", "admin", "staff", "superuser", "locked", "suspended", "spam",
               "flagged", "hidden", "private", "test", "disabled", "internal"}  # fmt: skip
MONEY = {"price", "amount", "cost", "total", "subtotal", "balance", "fee", "salary", "revenue", "budget", "payment",
         "tax", "discount", "wage", "charge", "refund", "income", "spend"}  # fmt: skip
COUNTS = {"quantity", "qty", "stock", "inventory", "count", "views", "likes", "clicks", "downloads", "votes", "copies",
          "attempts", "retries", "visits"}  # fmt: skip
ORDINALS = {"position", "sort_order", "ordinal", "rank", "seq", "sequence", "sort", "order", "index", "idx",
            "display_order", "sort_index", "order_index", "line", "line_number"}  # fmt: skip
TEXT_LONG = {"description", "body", "content", "text", "comment", "comments", "summary", "bio", "biography", "notes",
             "note", "message", "about", "details", "abstract", "excerpt", "review", "feedback", "reply", "answer",
             "question", "instructions", "remarks", "synopsis"}  # fmt: skip
TEXT_TITLE = {"title", "subject", "headline", "heading", "caption", "label", "tagline"}


@dataclass
class Context:
    table: object  # schema.Table
    column: object  # schema.Column
    created: str | None  # the table's creation column
    pool: int  # pool size for values drawn into pools
    exact_length: int | None = None  # a CHECK says length(col) = n


def created_column(table) -> str | None:
    """The table's creation time: created_at (or a synonym), else its first NOT NULL time whose
    name says something started (borrowed_at, placed_at)."""
    for name in CREATED:
        column = table.columns.get(name)
        if column is not None and column.kind in ("timestamp", "timestamptz", "date"):
            return name
    for column in table.columns.values():
        if column.kind in ("timestamp", "timestamptz", "date") and not column.nullable and says_started(column.name):
            return column.name
    return None


def null_fraction(column, default: float) -> float:
    """How many NULLs a nullable column gets unless the profile says: few, or most for rare events."""
    words = set(tokens(column.name))
    if column.kind in ("timestamp", "timestamptz", "date") and words & RARE_EVENTS:
        return 0.8
    return default


def guess(ctx: Context) -> g.Gen | None:
    """The generator for a column from its name and type; None: a type the seed does not know."""
    column, kind = ctx.column, ctx.column.kind
    name = column.name.lower()
    words = tokens(column.name)
    if kind in ("text",):
        return _text(ctx, name, words)
    if kind in ("int2", "int4", "int8", "float4", "float8", "numeric"):
        return _number(ctx, name, words)
    if kind == "bool":
        joined = set(words)
        p = 0.85 if joined & TRUE_MOSTLY else 0.1 if joined & TRUE_RARELY else 0.5
        return vg.Boolean(column, p)
    if kind in ("timestamp", "timestamptz", "date"):
        return _moment(ctx, name, words)
    if kind == "time":
        return vg.Moment(column, "time")
    if kind == "interval":
        return vg.Moment(column, "duration")
    if kind == "uuid":
        return vg.RandomUUID(column)
    if kind in ("json", "jsonb"):
        return g.Computed(column, "JSON documents", lambda s: documents(s, words, ctx.pool))
    if kind == "bytea":
        return g.Computed(column, "random bytes (16-64)", lambda s: _bytes(s, ctx.pool))
    if kind in ("inet", "cidr"):
        return vg.IPv4(column)
    if kind == "enum":
        return g.Choice(column, list(column.enum_values), label=f"enum {', '.join(column.enum_values[:6])}")
    if kind == "array":
        return array(ctx.column, ctx.pool, words)
    return None


# ---------------------------------------------------------------- text


def _text(ctx: Context, name: str, words: list[str]) -> g.Gen:
    column, table = ctx.column, ctx.table
    length = column.length
    last = words[-1] if words else name
    table_words = set(tokens(table.name))
    person_table = bool(table_words & PERSON_TABLES)
    if column.enum_values:
        return g.Choice(column, list(column.enum_values))
    if last in ("email", "mail") or name in ("email_address", "emailaddress"):
        return vg.Person(column, "email")
    if name in ("first_name", "firstname", "given_name", "forename", "givenname"):
        return vg.Person(column, "first")
    if name in ("last_name", "lastname", "surname", "family_name", "familyname"):
        return vg.Person(column, "last")
    if name in ("username", "user_name", "login", "handle", "nickname", "screen_name", "screenname", "nick"):
        return vg.Person(column, "username")
    if name in ("full_name", "fullname", "display_name", "displayname", "author", "author_name", "contact_name",
                "owner_name", "customer_name", "real_name", "person_name") or (name == "name" and person_table):  # fmt: skip
        return vg.Person(column, "full")
    if last in ("isbn", "isbn13", "ean", "ean13", "barcode", "gtin") and (length is None or length >= 13):
        return vg.Code(column, 13, prefix="978" if "isbn" in last else "", check=True,
                      label="ISBN-13 (978, check digit), distinct" if "isbn" in last else "EAN-13, distinct")  # fmt: skip
    if last in ("upc",) and (length is None or length >= 12):
        return vg.Code(column, 12)
    if last in ("code", "sku", "ref", "reference", "serial", "voucher", "coupon", "pin", "otp"):
        size = ctx.exact_length or min(length or 8, 8)
        return vg.Code(column, size, alphabet=vg.Code.DIGITS if last in ("pin", "otp") else vg.Code.ALPHANUMERIC)
    if is_password(name, words):
        return password_hash(column, name)
    if last in ("token", "secret", "nonce", "salt", "key") or name in ("api_key", "apikey", "secret_key"):
        return vg.Hex(column, min(length or 40, 40))
    if last in ("sha", "sha1", "sha256", "checksum", "digest", "etag", "md5", "hash", "fingerprint"):
        return vg.Hex(column, min(length or 64, 64 if "sha256" in name or last == "hash" else 40 if last in ("sha", "sha1") else 32))
    if name == "slug" or last == "slug":
        gen = g.Computed(column, "slug: words joined by -", lambda s: _slugs(s, ctx.pool))
        gen.separator = "-"
        return gen
    addressy = any(c in table.columns for c in ("city", "zip", "zipcode", "postcode", "postal_code", "country"))
    # A column of a few characters takes codes: a provider's names cut to fit are no values.
    faker = None if length is not None and length <= 3 else _faker_method(name, words, table_words | ({"address"} if addressy else set()))
    if faker:
        method, label = faker
        return g.FakerValues(column, method, ctx.pool, label=label)
    if name == "name" and table_words & COMPANY_TABLES:
        return g.FakerValues(column, "company", ctx.pool, label="company name")
    if name == "name" and table.name.lower() in PLACE_TABLES:
        method = PLACE_TABLES[table.name.lower()]
        return g.FakerValues(column, method, ctx.pool, label=f"faker {method}")
    if last in ("status", "state") and not person_table:
        return g.Choice(column, ["active", "pending", "inactive", "archived"], [6, 2, 1.5, 0.5])
    if last == "role":
        return g.Choice(column, ["member", "admin", "owner", "viewer"], [8, 1, 0.5, 2])
    if last in ("type", "kind", "category", "group", "genre", "tag"):
        return g.Computed(column, "a few words of the vocabulary", lambda s: _title_words(s, 12, 1, 2))
    if set(words) & TEXT_LONG:
        return g.TextModel(column, "paragraph" if (length or 10_000) >= 200 else "sentence", min(ctx.pool * 4, 4096))
    if set(words) & TEXT_TITLE:
        return g.TextModel(column, "title", min(ctx.pool * 4, 4096))
    if last == "name":
        return g.TextModel(column, "words", ctx.pool)
    if length is not None and length <= 3:
        return g.Computed(column, f"{length} letter codes", lambda s: _codes(s, ctx.pool, length))
    if length is not None and length <= 24:
        return g.TextModel(column, "word", ctx.pool)
    if length is None or length > 200:
        return g.TextModel(column, "sentence", min(ctx.pool * 4, 4096))
    return g.TextModel(column, "words", ctx.pool)


def _faker_method(name: str, words: list[str], table_words: set[str]) -> tuple[str, str] | None:
    last = words[-1] if words else name
    wordset = set(words)
    if last in ("url", "website", "homepage", "link", "uri", "href", "site"):
        if wordset & {"avatar", "image", "photo", "picture", "thumbnail", "logo", "icon", "cover", "banner"}:
            return "image_url", "faker image_url"
        return "url", "faker url"
    if name in ("avatar", "photo", "image", "picture", "thumbnail", "logo", "icon"):
        return "image_url", "faker image_url"
    if last in ("phone", "mobile", "telephone", "tel", "fax", "cell") or name in ("phone_number", "phonenumber", "mobile_number"):
        return "phone_number", "faker phone_number"
    if name in ("address2", "address_line2", "line2", "address_2", "street2"):
        return "secondary_address", "faker secondary_address"
    if last in ("address", "street", "address1", "line1") or name in ("street_address", "address_line1", "address_1"):
        return "street_address", "faker street_address"
    if last in ("city", "town"):
        return "city", "faker city"
    if last in ("province", "region", "county") or (last == "state" and "address" in table_words):
        return "administrative_unit", "faker administrative_unit"
    if last in ("zip", "zipcode", "postcode") or name in ("postal_code", "zip_code", "post_code"):
        return "postcode", "faker postcode"
    if name == "country_code" or (last == "code" and "country" in wordset):
        return "country_code", "faker country_code"
    if last == "country":
        return "country", "faker country"
    if last in ("company", "organization", "organisation", "employer", "business") or name == "company_name":
        return "company", "faker company"
    if name in ("job", "job_title", "occupation", "profession", "jobtitle"):
        return "job", "faker job"
    if name in ("currency", "currency_code"):
        return "currency_code", "faker currency_code"
    if name in ("language", "lang", "language_code"):
        return "language_code", "faker language_code"
    if name == "locale":
        return "locale", "faker locale"
    if name in ("timezone", "time_zone", "tz"):
        return "timezone", "faker timezone"
    if last in ("color", "colour"):
        return "safe_color_name", "faker safe_color_name"
    if name in ("ip", "ip_address", "ipv4", "last_ip", "remote_addr", "client_ip"):
        return "ipv4", "faker ipv4"
    if name in ("user_agent", "useragent"):
        return "user_agent", "faker user_agent"
    if name in ("mime", "mime_type", "content_type", "mimetype"):
        return "mime_type", "faker mime_type"
    if name in ("file_name", "filename"):
        return "file_name", "faker file_name"
    if name in ("file_path", "filepath", "path"):
        return "file_path", "faker file_path"
    if name in ("extension", "file_extension"):
        return "file_extension", "faker file_extension"
    if name in ("domain", "hostname", "host", "domain_name"):
        return "domain_name", "faker domain_name"
    if name in ("iban",):
        return "iban", "faker iban"
    if name in ("license_plate",):
        return "license_plate", "faker license_plate"
    return None


# ---------------------------------------------------------------- numbers and times


def _number(ctx: Context, name: str, words: list[str]) -> g.Gen:
    column, kind = ctx.column, ctx.column.kind
    wordset = set(words)
    last = words[-1] if words else name
    scale = column.scale if kind == "numeric" and column.scale is not None else (2 if kind == "numeric" else 0)
    if name in ("lat", "latitude"):
        return vg.Number(column, -90, 90, scale=min(scale, 6) if kind == "numeric" else 0)
    if name in ("lng", "lon", "long", "longitude"):
        return vg.Number(column, -180, 180, scale=min(scale, 6) if kind == "numeric" else 0)
    if name in ORDINALS or (last in ("position", "rank", "order") and kind in ("int2", "int4", "int8")):
        return vg.Ordinal(column, 0)
    if wordset & MONEY:
        return vg.Number(column, 1, 2000, "lognormal", scale=scale)
    if wordset & COUNTS or last == "count" or words[:1] in (["num"], ["n"]):
        return vg.Number(column, 0, 100, "zipf", scale=scale)
    if last == "age":
        return vg.Number(column, 18, 90, scale=scale)
    if last in ("pages", "page_count"):
        return vg.Number(column, 24, 1200, "lognormal")
    if last == "year":
        return vg.Number(column, 1980, 2026, scale=scale)
    if last == "month":
        return vg.Number(column, 1, 12)
    if last in ("day", "weekday"):
        return vg.Number(column, 1, 28 if last == "day" else 7)
    if last == "hour":
        return vg.Number(column, 0, 23)
    if last == "minute":
        return vg.Number(column, 0, 59)
    if last in ("rating", "stars"):
        return vg.Number(column, 1, 5, "normal", scale=min(scale, 1) if kind == "numeric" else 0)
    if last in ("score", "percent", "percentage", "pct", "progress"):
        return vg.Number(column, 0, 100, scale=scale)
    if last in ("ratio", "rate", "probability", "share", "weight") and kind not in ("int2", "int4", "int8"):
        return vg.Number(column, 0, 1, scale=scale)
    if last in ("version", "revision"):
        return vg.Number(column, 1, 20, "zipf")
    if last in ("seconds", "minutes", "ms", "duration", "hours", "days"):
        return vg.Number(column, 1, 3600 if last in ("seconds", "duration") else 480, "zipf", scale=scale)
    if kind == "int2":
        return vg.Number(column, 0, 100)
    if kind == "numeric":
        return vg.Number(column, 0, 1000, scale=scale)
    return vg.Number(column, 0, 1000, "zipf" if kind in ("int4", "int8") else "uniform", scale=scale)


def _moment(ctx: Context, name: str, words: list[str]) -> g.Gen:
    column = ctx.column
    wordset = set(words)
    if name == ctx.created:
        return vg.Moment(column, "created")
    if name in UPDATED:
        return vg.Moment(column, "updated", created=ctx.created)
    if wordset & BIRTH:
        return vg.Moment(column, "birth")
    if wordset & FUTURE:
        return vg.Moment(column, "future", created=ctx.created)
    return vg.Moment(column, "event", created=ctx.created)


# ---------------------------------------------------------------- composite values, made once per run


def _slugs(sources, size: int) -> list[str]:
    rng = sources.rng("slugs")
    words = [w for w in sources.vocabulary() if w.isascii() and w.isalpha()] or ["item"]
    return ["-".join(w.lower() for w in rng.sample(words, k=min(len(words), rng.randint(2, 4)))) for _ in range(size)]


def _title_words(sources, size: int, low: int, high: int) -> list[str]:
    rng = sources.rng("title_words")
    words = sources.vocabulary()[: max(size * 4, 40)]
    out = []
    for _ in range(size):
        chosen = rng.sample(words, k=min(len(words), rng.randint(low, high)))
        out.append(" ".join(chosen))
    return out


def _codes(sources, size: int, length: int) -> list[str]:
    rng = sources.rng(f"codes/{length}")
    letters = string.ascii_uppercase
    numbers = rng.sample(range(26**length), min(size, 26**length))  # distinct codes
    return ["".join(letters[n // 26**i % 26] for i in reversed(range(length))) for n in numbers]


def _bytes(sources, size: int) -> list[bytes]:
    rng = sources.rng("bytes")
    return [bytes(rng.getrandbits(8) for _ in range(rng.randint(16, 64))) for _ in range(min(size, 256))]


# ---------------------------------------------------------------- password hashes


