"""Generating rows on a thread of their own, ahead of the COPY that sends them.

The generator is pure Python and the server works on the other core: drawn in line, each chunk
waits for the server to take the previous one, and the server waits while the next is drawn.
On a producer thread the rows of the next chunks (and the next tables) are drawn while the
server ingests, rebuilds indexes and analyzes. The database work stays on the one connection
and the one transaction of the main thread; the thread never touches the database.

Memory stays bounded: the queue holds at most ``max_bytes`` of encoded chunks. Beyond that,
chunks go to an unlinked temporary file (up to ``SPILL_BYTES``) rather than wait: drawing is
faster than the server ingests, and the chunks drawn while the server rebuilds the first tables'
indexes are chunks the tasks' COPY does not wait for. The file lives in the page cache, not in
the process.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
import time
from typing import Iterator

# Encoded rows drawn ahead of the COPY (about 20,000 tasks): enough to keep drawing through the
# early tables' index builds, little beside the 150 MB budget.
AHEAD_BYTES = 4 * 1024 * 1024
# Chunks drawn further ahead are written to a temporary file, up to this much (the Todo app's
# load profile draws about 190 MB of tasks).
SPILL_BYTES = 512 * 1024 * 1024

_END = object()  # end of one table's chunks
# How long close() waits for the thread once told to stop. Drawing checks the stop between chunks,
# so it ends at once; a hook that never returns is abandoned (the thread is a daemon and holds no
# connection), rather than hanging the command.
STOP_SECONDS = 10.0
# How often a wait between the threads looks whether the other side is still there.
POLL_SECONDS = 0.1


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Producer:
    """Draws every table's COPY chunks, in the run's table order, on a daemon thread.

        with Producer(run) as rows:
            for data, count in rows.chunks("users"): ...
    """

    def __init__(self, gen, *, max_bytes: int = AHEAD_BYTES, spill_bytes: int = SPILL_BYTES) -> None:
        self.gen = gen
        self._spill = tempfile.TemporaryFile(prefix="todoctl-seed-") if spill_bytes > 0 else None
        self._spill_left = spill_bytes
        self._spill_end = 0
        self._queue: queue.Queue = queue.Queue()
        self._permits = max(1, max_bytes // (64 * 1024))  # one permit per 64 KiB
        self._room = threading.Semaphore(self._permits)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="todoctl-seed-rows", daemon=True)

    def __enter__(self) -> "Producer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Stop drawing (on an error or Ctrl-C in the main thread) and wait, at most
        ``STOP_SECONDS``, for the thread; a thread waiting for the run (its pools, ``bind``) is
        woken by ``stop``."""
        self._stop.set()
        stop = getattr(self.gen, "stop", None)
        if stop is not None:
            stop()
        deadline = time.monotonic() + STOP_SECONDS
        while self._thread.is_alive() and time.monotonic() < deadline:
            self._drain()
            self._thread.join(timeout=0.05)
        if self._spill is not None and not self._thread.is_alive():
            self._spill.close()

    def chunks(self, table: str) -> Iterator[tuple[bytes, int]]:
        """The chunks of ``table``, as the thread draws them; its error is raised here."""
        while True:
            try:
                item = self._queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if self._thread.is_alive() or not self._queue.empty():
                    continue
                raise RuntimeError("the seed's drawing thread ended without its rows or its error") from None
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            data, rows, permits = item
            if isinstance(data, int):  # spilled: ``permits`` is its length in the file
                yield os.pread(self._spill.fileno(), permits, data), rows
                continue
            self._release(permits)
            yield data, rows

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        try:
            for table in self.gen.tables:
                for data, rows in self.gen.rows(table):
                    if not self._put(data, rows):
                        return
                self._queue.put(_END)
        except BaseException as exc:  # handed to the main thread, which raises it
            self._queue.put(_Failed(exc))

    def _put(self, data: bytes, rows: int) -> bool:
        permits = min(self._permits, max(1, len(data) // (64 * 1024)))
        taken = 0
        if self._spill is not None and len(data) <= self._spill_left:
            while taken < permits and self._room.acquire(blocking=False):
                taken += 1
            if taken < permits and self._spilled(data, rows):  # no room in memory: to the file, not a wait
                self._release(taken)
                return not self._stop.is_set()
        while taken < permits:
            if self._stop.is_set():
                self._release(taken)
                return False
            if self._room.acquire(timeout=0.1):
                taken += 1
        self._queue.put((data, rows, taken))
        return True

    def _spilled(self, data: bytes, rows: int) -> bool:
        """Append a chunk to the spill file and queue where it is; False (wait for room in
        memory instead, from now on) when the file cannot take it, e.g. a full disk."""
        offset = self._spill_end
        try:
            os.pwrite(self._spill.fileno(), data, offset)
        except OSError:
            self._spill_left = 0
            return False
        self._spill_end += len(data)
        self._spill_left -= len(data)
        self._queue.put((offset, rows, len(data)))
        return True

    def _release(self, permits: int) -> None:
        for _ in range(permits):
            self._room.release()

    def _drain(self) -> None:
        try:
            while True:
                item = self._queue.get_nowait()
                if isinstance(item, tuple) and not isinstance(item[0], int):
                    self._release(item[2])
        except queue.Empty:
            pass

