"""The catalog queries the harmlessness judge (harmless.py) asks: candidates of a call or an
operator, and what a relation or a type leads to. Each reads pg_catalog only."""

from __future__ import annotations

FIRST_NORMAL_OBJECT_ID = 16384  # PostgreSQL's FirstNormalObjectId: below it, objects initdb made


_ROUTINE_COLUMNS = (
    "p.oid, n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.provolatile, l.lanname, p.prosecdef"
)


# A name in schema ``s`` (alias ``alias``) is a candidate for a name written with schema q.schema:
# any schema on the statement's search path (%(path)s: current_schemas(true), read before the
# judge moved its own path aside) when unqualified, else the one it names.
def _in_scope(alias: str) -> str:
    return (
        f"CASE WHEN q.schema IS NULL THEN {alias}.nspname = ANY (%(path)s::name[]) "
        f"WHEN q.schema = 'pg_temp' THEN {alias}.oid = pg_my_temp_schema() "
        f"ELSE {alias}.nspname = q.schema END"
    )


# Every function a call of this name and argument count may resolve to (FuncnameGetCandidates:
# exact count, fewer with defaults, more with VARIADIC).
CALL_CANDIDATES = f"""
SELECT q.i, {_ROUTINE_COLUMNS}
FROM unnest(%(schemas)s::text[], %(names)s::text[], %(arities)s::int[]) WITH ORDINALITY AS q(schema, name, arity, i)
LEFT JOIN (pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang)
  ON p.proname = q.name
 AND (p.pronargs = q.arity
      OR (p.pronargs > q.arity AND p.pronargs - p.pronargdefaults <= q.arity)
      OR (p.provariadic <> 0 AND p.pronargs - 1 <= q.arity))
 AND {_in_scope("n")}
ORDER BY q.i, p.oid
"""


# Every operator of this name and shape, and the function behind it.
OPERATOR_CANDIDATES = f"""
SELECT q.i, o.oprname, o.oid::regoperator::text, {_ROUTINE_COLUMNS}
FROM unnest(%(schemas)s::text[], %(names)s::text[], %(prefix)s::bool[]) WITH ORDINALITY AS q(schema, name, prefix, i)
JOIN pg_operator o ON o.oprname = q.name AND (o.oprleft = 0) = q.prefix
JOIN pg_namespace s ON s.oid = o.oprnamespace AND {_in_scope("s")}
JOIN pg_proc p ON p.oid = o.oprcode
JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
ORDER BY q.i, p.oid
"""


# The relations named, as oids: every relation of the name on the statement's search path (the
# first is the one it reads; the others cost nothing to judge), or in the schema it names.
RELATION_OIDS = f"""
SELECT DISTINCT c.oid
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS q(schema, name)
JOIN pg_class c ON c.relname = q.name
JOIN pg_namespace n ON n.oid = c.relnamespace AND {_in_scope("n")}
"""


# What a relation makes the server run when a statement reads (or writes) it, as SQL text the
# server itself wrote (qualified as the judge's own search path needs): a view's query, its other
# rules, its row-level security policies, column defaults (virtual generated columns always; the
# others when the statement inserts or sets DEFAULT). A materialized view is read as stored: not
# followed. Built-in relations (system views) are PostgreSQL's own, like its functions: not followed.
RELATION_TEXTS = """
SELECT c.oid, 'view ' || c.oid::regclass::text, 'statement', pg_get_viewdef(c.oid)
FROM pg_class c WHERE c.oid = ANY (%(relations)s) AND c.relkind = 'v'
UNION ALL
SELECT w.ev_class, 'rule ' || quote_ident(w.rulename) || ' on ' || w.ev_class::regclass::text, 'statement',
       pg_get_ruledef(w.oid)
FROM pg_rewrite w WHERE w.ev_class = ANY (%(relations)s) AND w.rulename <> '_RETURN'
UNION ALL
SELECT y.polrelid, 'policy ' || quote_ident(y.polname) || ' on ' || y.polrelid::regclass::text, 'expression', e.text
FROM pg_policy y, LATERAL (VALUES (pg_get_expr(y.polqual, y.polrelid)), (pg_get_expr(y.polwithcheck, y.polrelid))) AS e(text)
WHERE y.polrelid = ANY (%(relations)s) AND e.text IS NOT NULL
UNION ALL
SELECT a.adrelid, 'default of ' || a.adrelid::regclass::text || '.' || quote_ident(t.attname), 'expression',
       pg_get_expr(a.adbin, a.adrelid)
FROM pg_attrdef a JOIN pg_attribute t ON t.attrelid = a.adrelid AND t.attnum = a.adnum
WHERE a.adrelid = ANY (%(relations)s) AND (%(writes)s OR t.attgenerated = 'v')
"""


# The functions that serve a relation's rows: a foreign table's wrapper, a table's access method.
RELATION_HANDLERS = f"""
SELECT h.what, {_ROUTINE_COLUMNS}
FROM (
    SELECT 'foreign data wrapper ' || quote_ident(w.fdwname) || ' of ' || f.ftrelid::regclass::text, w.fdwhandler
    FROM pg_foreign_table f JOIN pg_foreign_server s ON s.oid = f.ftserver
    JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw WHERE f.ftrelid = ANY (%(relations)s)
    UNION ALL
    SELECT 'access method ' || quote_ident(m.amname) || ' of ' || c.oid::regclass::text, m.amhandler
    FROM pg_class c JOIN pg_am m ON m.oid = c.relam WHERE c.oid = ANY (%(relations)s)
) AS h(what, handler)
JOIN pg_proc p ON p.oid = h.handler
JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
"""


# Partitions and inheritance children: scanned with their parent.
CHILDREN = "SELECT inhrelid FROM pg_inherits WHERE inhparent = ANY (%(relations)s)"


# The types the statement casts to or declares: every type of the name on its search path, or in
# the schema it names.
TYPE_OIDS = f"""
SELECT t.oid FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS q(schema, name)
JOIN pg_type t ON t.typname = q.name
JOIN pg_namespace n ON n.oid = t.typnamespace AND {_in_scope("n")}
"""


# Types and those a value of them holds: base (domains), element (arrays), field (composites).
TYPE_CLOSURE = """
WITH RECURSIVE ty(oid) AS (
    SELECT unnest(%(types)s::oid[])
  UNION
    SELECT x.oid FROM ty JOIN pg_type t ON t.oid = ty.oid, LATERAL (
        SELECT t.typbasetype WHERE t.typbasetype <> 0
        UNION ALL SELECT t.typelem WHERE t.typelem <> 0 AND t.typlen = -1
        UNION ALL SELECT a.atttypid FROM pg_attribute a
                  WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
    ) AS x(oid)
)
SELECT oid FROM ty
"""


# The column types of relations, and each relation's own row type (a whole-row reference such as
# ``t`` in ``SELECT t::text FROM t``), for the casts a value read from them can go through.
COLUMN_TYPES = """
SELECT atttypid FROM pg_attribute WHERE attrelid = ANY (%(relations)s) AND attnum > 0 AND NOT attisdropped
UNION SELECT reltype FROM pg_class WHERE oid = ANY (%(relations)s) AND reltype <> 0
"""


# What runs when a value is one of these types: its input and receive functions, and a range
# type's canonical and subtype_diff (the planner calls subtype_diff while planning, even --no-analyze).
TYPE_FUNCTIONS = f"""
SELECT f.what || ' of type ' || format_type(t.oid, NULL), {_ROUTINE_COLUMNS}
FROM pg_type t
LEFT JOIN pg_range r ON r.rngtypid = t.oid
CROSS JOIN LATERAL (VALUES ('input function', t.typinput), ('receive function', t.typreceive),
                           ('canonical function', r.rngcanonical), ('subtype difference function', r.rngsubdiff)) AS f(what, proc)
JOIN pg_proc p ON p.oid = f.proc
JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE t.oid = ANY (%(types)s)
"""

# Built-in input and receive functions that take the type to build as an OID argument.
TYPE_IO_BY_OID = """
SELECT DISTINCT p.oid FROM pg_type t JOIN pg_proc p ON p.oid IN (t.typinput, t.typreceive)
WHERE 'oid'::regtype = ANY (p.proargtypes::oid[])
"""
TYPE_IO_WHY = (
    "it builds a value of a type given by OID, so it runs that type's input function and domain "
    "CHECKs, which the statement does not name (cast to the type instead)"
)


# Cast functions the statement can reach: every cast from a type in play (named, or a column or
# row type of a relation it reads), whatever its context — not only the implicit and assignment
# casts the server applies unasked: built-ins call explicit-only casts too (to_json, json_agg,
# row_to_json and friends use a user type's cast to json); and an explicit cast to a named type
# from a built-in one. A cast from a user type nothing in the statement holds cannot run.
CASTS = f"""
SELECT 'cast from ' || format_type(c.castsource, NULL) || ' to ' || format_type(c.casttarget, NULL), {_ROUTINE_COLUMNS}
FROM pg_cast c JOIN pg_proc p ON p.oid = c.castfunc
JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE c.castsource = ANY (%(in_play)s)
   OR (c.casttarget = ANY (%(named)s) AND c.castsource < {FIRST_NORMAL_OBJECT_ID})
"""


# ... and what its domain CHECK constraints run, as the server wrote them.
DOMAIN_CHECKS = """
SELECT 'domain check ' || quote_ident(k.conname) || ' of type ' || format_type(k.contypid, NULL),
       pg_get_expr(k.conbin, 0)
FROM pg_constraint k WHERE k.contypid = ANY (%(types)s) AND k.conbin IS NOT NULL
"""
