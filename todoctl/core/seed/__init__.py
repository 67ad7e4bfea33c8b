"""Seed: realistic, deterministic data for every table of the app's models, all or nothing.

    job         the run: protection, modes, the transaction, the report
    profile     seed profiles (TOML in the app's seed directory) and command-line options
                (profile_model: a profile as data, its limits and defaults)
    schema      what the models say: tables in load order, kinds of values, keys, uniques, checks
    checks      CHECK constraints read with PostgreSQL's grammar (pglast)
    plan        every table's count and every column's generator, before any connection (plan_model:
                the plan as data)
    constraints CHECK facts and unique constraints applied to the plan's generators
    counts      rows per root table, and per parent row (the skeleton)
    names       realistic values by a column's name and type (password_hashes: in real formats;
                documents: JSON documents and arrays)
    generators  the column generators' base, pools, text and Faker values (numpy, a chunk at a time);
                key_generators (keys, references, trees), value_generators (values by kind);
                drawing: what a generator may ask of its run and chunk (rows implements it)
    sources     pools drawn once per run: Faker's providers, word lists, text models
    hooks       what an app registers for what a profile cannot say
    rows        drawing a plan's rows chunk by chunk; values, encode: the binary COPY format;
                streams: the seeded randomness they draw from
    produce     the drawing thread and its spill file
    load        binary COPY, deferred indexes and keys, sequences, fingerprint, ANALYZE after the commit
"""

from todoctl.core.seed.job import SeedReport, fingerprint, run

__all__ = ["SeedReport", "fingerprint", "run"]
