"""Deterministic randomness: named streams, hashes of row numbers, and the curves numbers are drawn from.

Randomness is counter-based: ``hashed(key, n)`` is SplitMix64 (the finaliser of ``n * golden +
key``), a pure function of a 64-bit key (the SHA-256 of a name) and a counter, computed with numpy
over whole arrays. Two uses:

- ``Stream``: the draws of one (run, table, chunk, column), counters 0, 1, 2, ... of its name's
  key. A stream costs one hash of its name to start, so every column of every chunk has its own,
  and adding a column to the models changes no other column's values.
- Row numbers as counters: keys are drawn this way, so a child computes its parent's UUID from
  the parent's row number without anyone keeping it; so are per-parent choices that must be the
  same for every child row whichever chunk it falls in.

Nothing depends on numpy's own generators or distributions (which numpy allows itself to change
between releases); tests/core/seed/test_encode.py pins known answers.

Only exactly rounded arithmetic (+ - * / floor) turns draws into values: transcendental functions
(log, exp) differ in their last bit between CPUs and libraries, and distributions that need them
are tabulated once (``Curve``), so a seed gives the same rows on every machine.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

_UNIT = 2.0**-53


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)


def key_of(name: str) -> int:
    """A 64-bit key from a name (the first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")


class Stream:
    """The draws of one chunk of one column: ``raw(n)`` 64-bit words, ``uniform(n)`` in [0, 1),
    the next counters of the key of its name each time."""

    __slots__ = ("key", "position")

    def __init__(self, name: str) -> None:
        self.key = key_of(name)
        self.position = 0

    def raw(self, n: int) -> np.ndarray:
        counters = np.arange(self.position, self.position + n, dtype=np.uint64)
        self.position += n
        return _mix(counters * _GOLDEN + np.uint64(self.key))

    def uniform(self, *shape: int) -> np.ndarray:
        n = math.prod(shape)
        return ((self.raw(n) >> _S11).astype(np.float64) * _UNIT).reshape(shape)

    def below(self, n_values, u: np.ndarray) -> np.ndarray:
        """``floor(u * n_values)`` as int64 (``n_values`` a number or an array)."""
        return np.floor(u * n_values).astype(np.int64)


def _mix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


def hashed(key: int, rows: np.ndarray) -> np.ndarray:
    """64 random bits per row number, a pure function of (key, row): uint64 array."""
    return _mix(np.asarray(rows).astype(np.uint64) * _GOLDEN + np.uint64(key & (2**64 - 1)))


def hashed_uniform(key: int, rows: np.ndarray) -> np.ndarray:
    """A uniform in [0, 1) per row number, a pure function of (key, row)."""
    return (hashed(key, rows) >> _S11).astype(np.float64) * _UNIT


class Curve:
    """A distribution's inverse CDF tabulated at ``size`` points over [0, 1], and again at ``size``
    points within each outer ``1/size`` (so the tails reach p = 1/(2 size^2), z about 5.4), its
    values rounded to 9 significant digits (so a last-bit difference of a libm gives the same
    table), read by linear interpolation: ``curve(u)`` uses only exactly rounded arithmetic."""

    def __init__(self, inverse_cdf, size: int = 4096) -> None:
        import math

        def table(low: float, width: float) -> np.ndarray:
            points = []
            for i in range(size + 1):
                p = min(max(low + width * i / size, 0.5 / size**2), 1 - 0.5 / size**2)
                value = float(inverse_cdf(p))
                points.append(float(f"{value:.9g}") if math.isfinite(value) else 0.0)
            return np.array(points, dtype=np.float64)

        self.size = size
        self.edge = 1.0 / size
        self.main = table(0.0, 1.0)
        self.low = table(0.0, self.edge)
        self.high = table(1.0 - self.edge, self.edge)

    @staticmethod
    def _read(points: np.ndarray, x: np.ndarray) -> np.ndarray:
        size = len(points) - 1
        x = np.clip(x, 0.0, 1.0) * size
        i = np.minimum(np.floor(x).astype(np.int64), size - 1)
        return points[i] + (points[i + 1] - points[i]) * (x - i)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=np.float64)
        out = self._read(self.main, u)
        low, high = u < self.edge, u > 1.0 - self.edge
        if low.any():
            out[low] = self._read(self.low, u[low] * self.size)
        if high.any():
            out[high] = self._read(self.high, (u[high] - (1.0 - self.edge)) * self.size)
        return out


_CURVES: dict[str, Curve] = {}


def normal_curve() -> Curve:
    """The standard normal's inverse CDF (``statistics.NormalDist``), tabulated."""
    if "normal" not in _CURVES:
        from statistics import NormalDist

        _CURVES["normal"] = Curve(NormalDist().inv_cdf)
    return _CURVES["normal"]


def lognormal(u: np.ndarray, sigma: float) -> np.ndarray:
    """Lognormal draws with median 1 (``exp(sigma * z)``), through a tabulated curve per sigma."""
    key = f"lognormal/{sigma!r}"
    if key not in _CURVES:
        import math
        from statistics import NormalDist

        inv = NormalDist().inv_cdf
        _CURVES[key] = Curve(lambda p: math.exp(sigma * inv(p)))
    return _CURVES[key](u)
