"""Row drawing without a database: the numpy encoder against the format PostgreSQL reads, the
streams' determinism, and the producer's spill file. (The rows' contents as the server reads
them are checked in test_seed.py.)"""

from __future__ import annotations

import struct
import uuid

import numpy as np

from todoctl.core.seed import encode as e
import todoctl.core.seed.streams as streams
from todoctl.core.seed import plan as seed_plan
from todoctl.core.seed import profile as seed_profile
from todoctl.core.seed.produce import Producer
from todoctl.core.seed.rows import Run
from tests.helpers import run_todoctl


def test_assembled_rows_match_the_binary_copy_format_field_by_field():
    pool = e.Pool([b"\x00\x00\x00\x02hi", b"\x00\x00\x00\x05hello"], nullable=True)
    ids = e.uuids(streams.Stream("test/uuids"), 3)
    stamps = np.array([0, 1, -86_400_000_000], dtype=np.int64)
    data = e.assemble(3, [
        e.Fixed(e.constant(b"\x00\x04", 3)),
        e.Fixed(ids),
        e.Pick(pool, np.array([1, pool.null, 0])),
        e.Maybe(e.timestamps(stamps), np.array([True, False, True])),
        e.Fixed(e.int4s(np.array([7, -1, 2**31 - 1]))),
    ])  # fmt: skip
    expected = b""
    for i, (text, stamp, number) in enumerate([(b"hello", 0, 7), (None, None, -1), (b"hi", -86_400_000_000, 2**31 - 1)]):
        expected += b"\x00\x04" + bytes(ids[i])
        expected += b"\xff\xff\xff\xff" if text is None else struct.pack(">i", len(text)) + text
        expected += b"\xff\xff\xff\xff" if stamp is None else struct.pack(">iq", 8, stamp)
        expected += struct.pack(">ii", 4, number)
    assert data == expected


def test_uuids_are_version_4_and_the_stream_is_reproducible():
    first, again = e.uuids(streams.Stream("a"), 1000), e.uuids(streams.Stream("a"), 1000)
    assert (first == again).all()
    assert not (first == e.uuids(streams.Stream("b"), 1000)).all()
    values = [uuid.UUID(bytes=bytes(row[4:])) for row in first]
    assert {v.version for v in values} == {4} and {v.variant for v in values} == {uuid.RFC_4122}
    assert len(set(values)) == 1000 and all(bytes(row[:4]) == b"\x00\x00\x00\x10" for row in first)


def test_uniform_draws_are_in_the_unit_interval():
    u = streams.Stream("u").uniform(100_000)
    assert u.min() >= 0.0 and u.max() < 1.0 and 0.49 < u.mean() < 0.51


def _run(profile) -> Run:
    return Run(seed_plan.build(profile)).prepare()


def _drawn(profile) -> dict[str, bytes]:
    run = _run(profile)
    return {t: b"".join(d for d, _ in run.rows(t)) for t in run.tables}


def test_the_same_profile_draws_the_same_bytes_across_chunks():
    # More users and tasks than one chunk holds, so several streams are involved.
    profile = seed_profile.with_options(seed_profile.load("small"), users=5000, rows=["tasks=15000"])
    first, again = _drawn(profile), _drawn(profile)
    assert first == again
    assert _drawn(seed_profile.with_options(profile, seed=profile.seed + 1))["tasks"] != first["tasks"]


def _chunks(producer: Producer) -> dict[str, list[bytes]]:
    with producer as rows:
        return {t: [d for d, _ in rows.chunks(t)] for t in producer.gen.tables}


def test_chunks_spilled_to_the_file_come_back_in_order_and_unchanged():
    profile = seed_profile.with_options(seed_profile.load("small"), users=3000, rows=["tasks=30000"])
    in_memory = _chunks(Producer(_run(profile), max_bytes=1 << 30, spill_bytes=0))
    # 64 KiB in memory: nearly every chunk goes through the file; then a spill budget that runs
    # out halfway, after which the producer waits for room as before.
    spilled = _chunks(Producer(_run(profile), max_bytes=64 * 1024))
    capped = _chunks(Producer(_run(profile), max_bytes=64 * 1024, spill_bytes=2 * 1024 * 1024))
    assert spilled == in_memory and capped == in_memory
    assert sum(len(c) for c in in_memory["tasks"]) > 4 * 1024 * 1024


def test_a_fresh_process_seeds_while_composing_pools_on_a_thread(migrated_db):
    """Regression: the pools thread and the main thread importing psycopg modules at once ended
    in Python's import deadlock error (exit 1 on every `seed --users 5000` in a new process)."""
    for mode in ("--append", "--truncate", "--truncate"):
        result = run_todoctl("-d", migrated_db.url, "seed", "--profile", "load", "--users", "5000",
                             "--rows", "tasks=100000", mode, "--json", timeout=300)  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_streams_raw_output_is_pinned():
    """Known answers for a stream's raw output (SplitMix64 over counters, on the SHA-256 of the
    stream's name): every seeded row depends on them."""
    stream = streams.Stream("todoctl-seed/known-answer")
    assert [int(x) for x in stream.raw(3)] == PINNED_HASHES
    assert [int(x) for x in stream.raw(1)] == [int(streams.hashed(streams.key_of("todoctl-seed/known-answer"), np.array([3]))[0])]


def test_hashed_draws_are_pinned_and_depend_only_on_the_row():
    """Keys are pure functions of (key, row number): pinned, and the same whichever rows are asked."""
    rows = np.arange(5, dtype=np.int64)
    assert [int(x) for x in streams.hashed(7, rows[:3])] == [int(x) for x in streams.hashed(7, np.array([0, 1, 2]))]
    assert int(streams.hashed(7, rows)[4]) == int(streams.hashed(7, np.array([4]))[0])
    assert [int(x) for x in streams.hashed(streams.key_of("todoctl-seed/known-answer"), rows[:3])] == PINNED_HASHES


def test_curves_use_tables_not_libm():
    """Distributions read tabulated inverse CDFs (9 significant digits) with exactly rounded
    arithmetic only: the values are the same on every machine."""
    u = np.array([0.0, 0.25, 0.5, 0.999999])
    z = streams.normal_curve()(u)
    assert z[2] == 0.0 and z[0] < -3 and z[3] > 3
    assert (streams.lognormal(u, 1.0) > 0).all()


PINNED_HASHES = [6769203484343886776, 2835314241564847394, 10583669232406894145]


def test_null_and_merged_columns_come_out_the_same_wherever_they_are():
    """A fixed-width column with NULLs is written whole where the rest of the row covers the spill,
    and field by field where it does not (at the end of a row): the bytes are the same."""
    stamps = np.array([5, 6, 7], dtype=np.int64)
    present = np.array([False, True, False])
    pool = e.Pool([b"\x00\x00\x00\x01a", b"\x00\x00\x00\x03abc"])
    maybe = e.Maybe(e.timestamps(stamps), present)
    head = e.Fixed(e.constant(b"\x00\x03", 3))
    middle = e.assemble(3, [head, maybe, e.Fixed(e.int4s(np.array([1, 2, 3]))), e.Pick(pool, np.array([0, 1, 0]))])
    expected = b""
    for i in range(3):
        stamp = struct.pack(">iq", 8, 5 + i) if present[i] else b"\xff\xff\xff\xff"
        expected += b"\x00\x03" + stamp + struct.pack(">ii", 4, i + 1) + (b"\x00\x00\x00\x01a", b"\x00\x00\x00\x03abc")[i % 2]
    assert middle == expected
    last = e.assemble(3, [head, e.Fixed(e.int4s(np.array([1, 2, 3]))), maybe])
    assert last == b"".join(b"\x00\x03" + struct.pack(">ii", 4, i + 1) + (struct.pack(">iq", 8, 5 + i) if present[i] else b"\xff\xff\xff\xff") for i in range(3))
