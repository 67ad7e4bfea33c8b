"""Seed: realistic, deterministic data for the app tables, all or nothing.

    job        the run: protection, modes, the transaction, the report
    profile    seed profiles (TOML) and their checks
    wordlists  the word lists of seeds/words/
    text       task titles and descriptions composed from them (Zipf by rank)
    pools      value pools, encoded once per run
    rows/      rows per table (one module each), drawn from the profile
    load       binary COPY, deferred indexes and keys, ANALYZE, fingerprint
"""

from todoctl.core.seed.job import SeedReport, fingerprint, run

__all__ = ["SeedReport", "fingerprint", "run"]
