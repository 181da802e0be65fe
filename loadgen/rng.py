"""Bit-exact reproduction of the random streams of the official MLPerf LoadGen.

The official LoadGen (``mlcommons-loadgen`` 6.0.17, the PyPI wheel is built with GCC 14.2 /
libstdc++) draws every random quantity from ``std::mt19937`` engines through libstdc++'s
distribution algorithms. This module reproduces those streams value for value, so that our
Python LoadGen issues the same samples at the same scheduled times as the official one:

* :class:`Mt19937`: the raw 32-bit stream of ``std::mt19937(seed)``. The C++ constructor keeps
  ``seed mod 2**32`` (the ``uint64_t`` seeds of ``TestSettings`` are truncated) and runs the
  reference ``init_genrand``; we build that 624-word state ourselves and give it to numpy's
  ``MT19937`` bit generator, whose ``random_raw`` then yields the same outputs (vectorised).
* :func:`uniform_int` / :func:`sample_indices`: ``std::uniform_int_distribution`` on a 32-bit
  engine. libstdc++ >= 11 uses Lemire's nearly divisionless multiply-and-reject; the older
  "scale and reject" algorithm gives different values and is not what the wheel uses.
* :func:`shuffle`: ``std::shuffle``, including libstdc++'s shortcut (GCC >= 10) that takes two
  swap positions from one draw while ``n * n`` fits in 32 bits (``n <= 65535``).
* :func:`generate_canonical`: ``std::generate_canonical<double, 53>`` = two draws, first one
  the low word, also ``uniform_real_distribution<double>(0, 1)``.
* :func:`exponential_gaps_ns`: ``std::exponential_distribution<double>`` (``-log(1 - U) /
  rate``) converted with ``duration_cast<nanoseconds>(duration<double>)``, i.e. truncated.
  numpy's SIMD ``log`` differs from glibc's in the last ulp for ~0.3 % of inputs on AVX-512
  machines; the few results close enough to an integer ns for that to matter are recomputed
  with ``math.log`` (glibc's ``log``, the one the official binary imports), so the output is
  exact regardless of numpy's implementation.

How LoadGen (6.0.17, ``loadgen/loadgen.cc``, ``loadgen/issue_query_controller.h``) uses them,
as established by running the official binary (where this differs from the older sources in
mlcommons/inference, the binary wins):

* ``GenerateLoadableSets``: ``std::shuffle`` of ``0 .. N-1`` on ``mt19937(qsl_rng_seed)``, cut
  into sets of ``performance_sample_count`` (last one shorter), MultiStream sets padded with
  their first ``samples_per_query - 1`` elements. ``N`` is ``performance_sample_count`` in
  performance mode and ``accuracy_sample_count`` (default: ``TotalSampleCount()``) in accuracy
  mode — *not* always the QSL total as in older sources. See :func:`loadable_sets`.
* ``GenerateQueries`` seeds ``sample_rng = mt19937(sample_index_rng_seed)`` and
  ``schedule_rng = mt19937(schedule_rng_seed)``; the two never interleave. Before the first
  query it runs, on ``sample_rng``: in accuracy mode the issue-order shuffle of
  ``range(0, end, stride)``; always the ``performance_issue_unique`` shuffle of the same range
  and ``ceil(min_queries / len(loaded_set))`` equal-issue shuffles of ``range(len(loaded_set))``
  (built even when unused). Performance-mode queries then draw
  ``uniform_int_distribution<int>(0, end - 1)`` per sample (SingleStream, Server) or per query
  (MultiStream start position, ``stride = samples_per_query``). See
  :func:`performance_sample_draws`, :func:`accuracy_sample_order` (also the
  ``performance_issue_unique`` order) and :func:`equal_issue_positions`
  (``sample_concatenate_permutation``). Offline performance queries are not random.
* Server: query ``k`` is scheduled at ``t_k = sum(gaps[:k])`` ns (integer accumulation of the
  truncated gaps, ``t_0 = 0``); generation stops at the first ``k >= min_queries - 1`` with
  ``t_k >= target_duration`` and logs ``generated_query_duration = t_{k+1}``. See
  :func:`exponential_schedule_ns` and :func:`server_schedule_ns`; other scenarios use
  :func:`fixed_period_ns`.
* Accuracy-log sampling (performance mode): ``IssueQueries`` draws one offset from a fresh
  ``mt19937(accuracy_log_rng_seed)`` (:func:`accuracy_log_offset`); each generated sample gets
  ``u`` from ``SequenceGen``'s engine, which is never seeded (``InitAccLogRng`` is not
  called), so it is ``mt19937(5489)`` (:data:`MT19937_DEFAULT_SEED`) continuing across all
  ``IssueQueries`` calls of one ``StartTest``; a sample is logged iff
  ``(u + offset) mod 1 <= accuracy_log_probability`` (use :func:`accuracy_log_values`).

Verification: every function was compared with a C++17 program compiled with GCC 12.2 against
libstdc++ (raw stream for 9 seeds incl. ``2**64 - 1``; ``uniform_int`` for 13 bounds from 1 to
``2**32`` incl. ~50 % rejection rates, with the engine position after the draws; ``shuffle``
for sizes 1 .. 200000 on both sides of 65535; canonical doubles; 200000-step Server schedules at
7 rates), and, against the official ``mlperf_loadgen`` 6.0.17 wheel run with an inline SUT and
``enable_trace`` (``sample_idx`` and scheduled ``ts`` of every ``Sample`` trace event,
``loaded_qsl_set``, ``generated_query_*`` and ``mlperf_log_accuracy.json``): the loaded set for
the official seed and 1024 samples, total/performance/accuracy-count variants, accuracy-mode
sets and issue order (SingleStream and MultiStream), per-sample indices for SingleStream
(``min_query_count`` 50 and 2500), Server, ``performance_issue_unique`` and
``sample_concatenate_permutation``, MultiStream start positions with padding, every scheduled
Server time of 601- and 300-query runs with their generated query count and duration, and the
accuracy-log sampled sequence ids. All bit-exact. With the older scale-and-reject
``uniform_int_distribution`` the 1024-sample loaded set would agree at only 382 positions.
Not covered: ``uniform_int_distribution`` ranges above ``2**32`` (libstdc++'s upscaling path,
unreachable from LoadGen) and the Offline ``sample_concatenate_permutation`` layout (each
repeat of the loaded set is shuffled with :func:`shuffle` on ``sample_rng`` after the
prelude; not wrapped or checked against the binary).
"""

from __future__ import annotations

import math
from collections.abc import MutableSequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "MT19937_DEFAULT_SEED",
    "Mt19937",
    "accuracy_log_offset",
    "accuracy_log_values",
    "accuracy_sample_order",
    "equal_issue_positions",
    "exponential_gaps_ns",
    "exponential_schedule_ns",
    "fixed_period_ns",
    "generate_canonical",
    "loadable_sets",
    "performance_sample_draws",
    "sample_indices",
    "server_schedule_ns",
    "shuffle",
    "uniform_int",
]

T = TypeVar("T")
U64Array = npt.NDArray[np.uint64]
I64Array = npt.NDArray[np.int64]
F64Array = npt.NDArray[np.float64]

MT19937_DEFAULT_SEED = 5489
"""``std::mersenne_twister_engine::default_seed`` (a default-constructed ``std::mt19937``)."""

_MASK32 = 0xFFFFFFFF
_TWO32 = 1 << 32
_STATE_WORDS = 624
_INIT_MULT = 1812433253
# Draws fetched from numpy per refill; large enough that the numpy call overhead is amortised.
_BLOCK = 1 << 16
# Relative distance of t = x * 1e9 to an integer below which the truncation to ns is recomputed
# with math.log (glibc), see _exponential_ns. ~450 ulp: far above any libm disagreement.
_TRUNC_GUARD = 1e-13


def _init_genrand(seed32: int) -> npt.NDArray[np.uint32]:
    """Return the 624-word state of ``std::mt19937::seed(seed32)`` (Matsumoto's init_genrand)."""
    key = [0] * _STATE_WORDS
    key[0] = seed32
    prev = seed32
    for i in range(1, _STATE_WORDS):
        prev = (_INIT_MULT * (prev ^ (prev >> 30)) + i) & _MASK32
        key[i] = prev
    return np.array(key, dtype=np.uint32)


class Mt19937:
    """The raw 32-bit output stream of ``std::mt19937(seed)``.

    ``std::mt19937``'s constructor stores ``seed mod 2**32`` as the first state word and fills
    the rest with the reference ``init_genrand`` recurrence; the next call then twists the whole
    state. This class builds exactly that state and hands it to numpy's ``MT19937`` bit
    generator (whose ``random_raw`` yields the tempered 32-bit outputs, one per uint64), so
    millions of draws cost a few milliseconds. Draws are buffered, which allows looking ahead
    (:meth:`peek`) and consuming a data-dependent number of them (:meth:`skip`), as rejection
    sampling needs.

    Args:
        seed: The seed as passed to the C++ constructor, ``0 <= seed < 2**64`` (LoadGen's seeds
            are ``uint64_t``); only its low 32 bits matter.

    Raises:
        ValueError: If ``seed`` is negative or does not fit in 64 bits.
    """

    def __init__(self, seed: int) -> None:
        if not 0 <= seed < 1 << 64:
            raise ValueError(f"seed must be in [0, 2**64), got {seed}")
        self._bitgen = np.random.MT19937(0)
        self._bitgen.state = {
            "bit_generator": "MT19937",
            "state": {"key": _init_genrand(seed & _MASK32), "pos": _STATE_WORDS},
        }
        self._buf: U64Array = np.empty(0, dtype=np.uint64)
        self._pos = 0
        self._consumed = 0

    @property
    def consumed(self) -> int:
        """Number of 32-bit outputs consumed so far (what the C++ engine has produced)."""
        return self._consumed

    def peek(self, n: int) -> U64Array:
        """Return the next ``n`` outputs without consuming them.

        Args:
            n: Number of outputs, ``n >= 0``.

        Returns:
            A read-only uint64 view holding values in ``[0, 2**32)``.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        avail = self._buf.size - self._pos
        if avail < n:
            fresh = self._bitgen.random_raw(max(n - avail, _BLOCK))
            self._buf = np.concatenate((self._buf[self._pos :], fresh))
            self._pos = 0
        view = self._buf[self._pos : self._pos + n]
        view.flags.writeable = False
        return view

    def skip(self, n: int) -> None:
        """Consume ``n`` outputs (``std::mt19937::discard``).

        Args:
            n: Number of outputs to drop, ``n >= 0``.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        avail = self._buf.size - self._pos
        if n <= avail:
            self._pos += n
        else:
            rest = n - avail
            self._buf = np.empty(0, dtype=np.uint64)
            self._pos = 0
            while rest > 0:
                step = min(rest, 1 << 22)
                self._bitgen.random_raw(step)
                rest -= step
        self._consumed += n

    def take(self, n: int) -> U64Array:
        """Consume and return the next ``n`` outputs.

        Args:
            n: Number of outputs, ``n >= 0``.

        Returns:
            A new uint64 array holding values in ``[0, 2**32)``.
        """
        out: U64Array = np.array(self.peek(n), dtype=np.uint64)
        self.skip(n)
        return out

    def next_u32(self) -> int:
        """Consume and return one output (``engine()``)."""
        value = int(self.peek(1)[0])
        self.skip(1)
        return value


class _ScalarDraws:
    """Scalar access to an engine for sequential algorithms (shuffle), in Python ints.

    Reads blocks ahead with :meth:`Mt19937.peek` and commits only what was used on
    :meth:`close`, so the engine is left exactly where the C++ one would be.
    """

    __slots__ = ("_block", "_engine", "_i")

    def __init__(self, engine: Mt19937) -> None:
        self._engine = engine
        self._block: list[int] = []
        self._i = 0

    def __call__(self) -> int:
        if self._i == len(self._block):
            self._engine.skip(self._i)
            self._block = self._engine.peek(4096).tolist()
            self._i = 0
        value = self._block[self._i]
        self._i += 1
        return value

    def close(self) -> None:
        self._engine.skip(self._i)
        self._block = []
        self._i = 0


def _bounded(draw: _ScalarDraws, erange: int) -> int:
    """One ``uniform_int_distribution`` draw in ``[0, erange)`` on a 32-bit engine (libstdc++).

    ``erange < 2**32`` uses Lemire's nearly divisionless method (GCC >= 11): multiply a draw by
    ``erange`` in 64 bits, reject while the low word is below ``2**32 mod erange``, return the
    high word. ``erange == 2**32`` returns the draw itself. Every call consumes at least one
    draw, even for ``erange == 1``.
    """
    if erange == _TWO32:
        return draw()
    product = draw() * erange
    low = product & _MASK32
    if low < erange:
        threshold = (_TWO32 - erange) % erange
        while low < threshold:
            product = draw() * erange
            low = product & _MASK32
    return product >> 32


def _check_upper(upper: int) -> None:
    if not 1 <= upper <= _TWO32:
        raise ValueError(
            f"upper must be in [1, 2**32] (the 32-bit downscaling paths of libstdc++), got {upper}"
        )


def uniform_int(engine: Mt19937, count: int, upper: int) -> I64Array:
    """Draw ``count`` values of ``std::uniform_int_distribution(0, upper - 1)`` from ``engine``.

    Reproduces libstdc++ (GCC >= 11) for a 32-bit engine: Lemire's nearly divisionless
    multiply-and-reject (a draw ``r`` is accepted iff ``(r * upper) mod 2**32 >=
    2**32 mod upper``; the value is ``(r * upper) >> 32``), or the raw draw when
    ``upper == 2**32``. The result type of the C++ distribution (``int``, ``size_t``) does not
    change the algorithm. Vectorised: draws are inspected in blocks and exactly the consumed
    number is taken from the engine.

    Args:
        engine: The engine to draw from; it is advanced.
        count: Number of values, ``count >= 0``.
        upper: Exclusive upper bound, ``1 <= upper <= 2**32``.

    Returns:
        int64 array of ``count`` values in ``[0, upper)``.

    Raises:
        ValueError: If ``count < 0`` or ``upper`` is out of range.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    _check_upper(upper)
    if upper == _TWO32:
        return engine.take(count).astype(np.int64)
    out = np.empty(count, dtype=np.int64)
    threshold = np.uint64((_TWO32 - upper) % upper)
    mult = np.uint64(upper)
    shift = np.uint64(32)
    mask = np.uint64(_MASK32)
    accept_p = 1.0 - int(threshold) / _TWO32
    filled = 0
    while filled < count:
        need = count - filled
        n = int(need / accept_p * 1.001) + 64
        product = engine.peek(n) * mult
        accepted = np.flatnonzero((product & mask) >= threshold)[:need]
        got = accepted.size
        out[filled : filled + got] = (product[accepted] >> shift).astype(np.int64)
        filled += got
        engine.skip(int(accepted[-1]) + 1 if got == need else n)
    return out


def shuffle(engine: Mt19937, values: MutableSequence[T]) -> None:
    """Shuffle ``values`` in place exactly like libstdc++'s ``std::shuffle(first, last, engine)``.

    libstdc++ (GCC >= 10) takes a shortcut when ``n * n`` fits in the engine's range
    (``(2**32 - 1) // n >= n``, i.e. ``n <= 65535`` for ``std::mt19937``): when ``n`` is even it
    first swaps element 1 with position ``uniform(0, 1)``; then, for ``i = 1 or 2, +2, ...``,
    one draw ``x = uniform(0, (i + 1) * (i + 2) - 1)`` gives both swap positions
    ``x // (i + 2)`` (for element ``i``) and ``x % (i + 2)`` (for element ``i + 1``). Larger
    ranges use the textbook loop ``swap(v[i], v[uniform(0, i)])`` for ``i = 1 .. n - 1``.

    Args:
        engine: The engine to draw from; it is advanced by exactly the draws the C++ code makes.
        values: The sequence to permute in place (any length, ``len < 2**32``).
    """
    n = len(values)
    if n == 0:
        return
    draw = _ScalarDraws(engine)
    try:
        if _MASK32 // n >= n:
            i = 1
            if n % 2 == 0:
                j = _bounded(draw, 2)
                values[1], values[j] = values[j], values[1]
                i = 2
            while i != n:
                b1 = i + 2
                p0, p1 = divmod(_bounded(draw, (i + 1) * b1), b1)
                values[i], values[p0] = values[p0], values[i]
                values[i + 1], values[p1] = values[p1], values[i + 1]
                i += 2
        else:
            for i in range(1, n):
                j = _bounded(draw, i + 1)
                values[i], values[j] = values[j], values[i]
    finally:
        draw.close()


def generate_canonical(engine: Mt19937, count: int) -> F64Array:
    """Draw ``count`` values of ``std::generate_canonical<double, 53>(engine)`` (libstdc++).

    Each value uses two 32-bit draws ``a`` then ``b``: ``(a + b * 2**32) / 2**64`` with the sum
    rounded once to double (the first draw is the low word); a result that rounds up to 1.0 is
    replaced by ``nextafter(1.0, 0.0)``. This is also ``std::uniform_real_distribution<double>
    (0, 1)`` and the ``U`` inside ``std::exponential_distribution<double>``.

    Args:
        engine: The engine to draw from; it is advanced by ``2 * count``.
        count: Number of values, ``count >= 0``.

    Returns:
        float64 array of ``count`` values in ``[0, 1)``.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    raw = engine.take(2 * count).reshape(count, 2)
    total = raw[:, 0].astype(np.float64) + raw[:, 1].astype(np.float64) * float(_TWO32)
    canon = total / float(1 << 64)
    np.minimum(canon, math.nextafter(1.0, 0.0), out=canon)
    return canon


def _exponential_ns_scalar(canon: float, rate: float) -> int:
    """The C++ expression chain for one gap, with glibc's ``log`` (``math.log``)."""
    one_minus = 1.0 - canon
    seconds = -math.log(one_minus) / rate
    return int(seconds * 1e9)


def _exponential_ns(canon: F64Array, rate: float) -> I64Array:
    """``duration_cast<nanoseconds>(duration<double>(-log(1 - U) / rate))`` for each ``U``.

    Vectorised with ``np.log``; where ``t = x * 1e9`` lies within ``_TRUNC_GUARD * t`` of an
    integer (so that an ulp difference between numpy's and glibc's ``log`` could move the
    truncation) the value is recomputed with ``math.log``, which is the same glibc ``log`` the
    official binary calls. All other operations are single IEEE double operations in the same
    order as the C++ code, so the result does not depend on numpy's log implementation.
    """
    seconds = -np.log(1.0 - canon) / rate
    t = seconds * 1e9
    whole = np.trunc(t)
    frac = t - whole
    guard = t * _TRUNC_GUARD
    out = whole.astype(np.int64)
    for k in np.flatnonzero((frac <= guard) | (1.0 - frac <= guard)).tolist():
        out[k] = _exponential_ns_scalar(float(canon[k]), rate)
    return out


def _check_rate(rate_qps: float) -> float:
    rate = float(rate_qps)
    if not (rate > 0.0 and math.isfinite(rate)):
        raise ValueError(f"rate_qps must be finite and > 0, got {rate_qps}")
    return rate


def exponential_gaps_ns(engine: Mt19937, count: int, rate_qps: float) -> I64Array:
    """Draw ``count`` Server inter-arrival gaps in ns, as LoadGen's ``ScheduleDistribution``.

    Each gap is ``std::exponential_distribution<double>(rate_qps)(engine)`` — libstdc++
    computes ``-log(1 - generate_canonical()) / rate`` — converted with
    ``std::chrono::duration_cast<std::chrono::nanoseconds>`` of a ``duration<double>`` in
    seconds, i.e. ``x * 1e9`` truncated toward zero.

    Args:
        engine: The engine to draw from; it is advanced by ``2 * count``.
        count: Number of gaps, ``count >= 0``.
        rate_qps: The exponential rate (``target_qps``), finite and ``> 0``.

    Returns:
        int64 array of ``count`` gaps in ns (``>= 0``).
    """
    rate = _check_rate(rate_qps)
    return _exponential_ns(generate_canonical(engine, count), rate)


def _schedule_from_gaps(gaps: I64Array) -> I64Array:
    out = np.zeros(gaps.size + 1, dtype=np.int64)
    np.cumsum(gaps, out=out[1:])
    return out


def exponential_schedule_ns(seed: int, count: int, rate_qps: float) -> I64Array:
    """Return the first ``count`` Server scheduled issue times (ns after the test start).

    LoadGen's ``GenerateQueries`` gives query ``k`` the timestamp ``t_k`` (``t_0 = 0``) and then
    adds one gap drawn from ``std::mt19937(schedule_rng_seed)`` (see
    :func:`exponential_gaps_ns`) with integer nanosecond accumulation, so
    ``t_k = sum(gaps[:k])``. The sample-index draws use a different engine and do not
    interleave with these.

    Args:
        seed: ``schedule_rng_seed``.
        count: Number of timestamps, ``count >= 0``.
        rate_qps: ``server_target_qps``.

    Returns:
        int64 array ``[t_0, ..., t_{count-1}]``, non-decreasing, starting at 0.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    return _schedule_from_gaps(exponential_gaps_ns(Mt19937(seed), count - 1, rate_qps))


def server_schedule_ns(
    seed: int, rate_qps: float, *, gen_duration_ns: int, min_queries: int
) -> tuple[I64Array, int]:
    """Reproduce the Server query timeline of ``GenerateQueries`` including its stop rule.

    LoadGen keeps generating while ``prev_timestamp < gen_duration || queries < min_queries``
    (``gen_duration`` is ``target_duration`` for Server), so the query count is the smallest
    ``Q >= min_queries`` with ``t_{Q-1} >= gen_duration`` (or ``Q = 0`` when both are 0), and the
    logged ``generated_query_duration`` is ``t_Q`` (the timestamp after the last increment).

    Args:
        seed: ``schedule_rng_seed``.
        rate_qps: ``server_target_qps``.
        gen_duration_ns: Generation horizon in ns (``target_duration``, 0 in accuracy mode).
        min_queries: Minimum number of queries (``min_query_count``).

    Returns:
        ``(timestamps, generated_query_duration_ns)``: the ``Q`` scheduled times and ``t_Q``.
    """
    rate = _check_rate(rate_qps)
    if gen_duration_ns < 0 or min_queries < 0:
        raise ValueError("gen_duration_ns and min_queries must be >= 0")
    if gen_duration_ns == 0 and min_queries == 0:
        return np.zeros(0, dtype=np.int64), 0
    engine = Mt19937(seed)
    chunk = max(1024, min_queries + 1, int(rate * gen_duration_ns / 1e9 * 1.1) + 1024)
    parts: list[I64Array] = []
    last = 0  # timestamp reached so far (t_len)
    length = 0
    while True:
        gaps = _exponential_ns(generate_canonical(engine, chunk), rate)
        times = last + np.cumsum(gaps)  # t_{length+1} .. t_{length+chunk}
        starts = np.concatenate(([last], times[:-1]))  # t_length .. t_{length+chunk-1}
        # Query index k = length + j is the last one when t_k >= gen and k + 1 >= min_queries.
        j_min = max(0, min_queries - 1 - length)
        done = np.flatnonzero(starts[j_min:] >= gen_duration_ns)
        if done.size:
            j = j_min + int(done[0])
            parts.append(starts[: j + 1])
            return np.concatenate(parts), int(times[j])
        parts.append(starts)
        length += chunk
        last = int(times[-1])


def fixed_period_ns(qps: float) -> int:
    """Period of the non-Server schedules: ``duration_cast<ns>(duration<double>(1.0 / qps))``.

    Args:
        qps: ``target_qps`` (e.g. ``1e9 / single_stream_expected_latency_ns``).

    Returns:
        The period in ns, truncated toward zero.
    """
    return int((1.0 / _check_rate(qps)) * 1e9)


def loadable_sets(seed: int, count: int, set_size: int, *, padding: int = 0) -> list[list[int]]:
    """Reproduce LoadGen's ``GenerateLoadableSets``.

    The indices ``0 .. count-1`` are shuffled with ``std::shuffle`` on
    ``std::mt19937(qsl_rng_seed)`` and cut into consecutive sets of ``set_size``
    (``performance_sample_count``); the last set may be shorter. MultiStream then appends
    ``padding = samples_per_query - 1`` copies of each set's first elements. Performance mode
    loads only the first set (logged as ``loaded_qsl_set``). In LoadGen 6.0.17 ``count`` is the
    effective ``performance_sample_count`` in performance mode (so the loaded set is a
    permutation of ``0 .. performance_sample_count-1``, even when the QSL holds more samples)
    and the effective ``accuracy_sample_count`` (default ``TotalSampleCount()``) in accuracy
    mode; both were checked against the official binary.

    Args:
        seed: ``qsl_rng_seed``.
        count: Number of indices shuffled (see above), ``count >= 0``.
        set_size: Samples per loadable set, ``set_size >= 1``.
        padding: Number of leading elements appended again to every set (MultiStream).

    Returns:
        The loadable sets, in order.
    """
    if count < 0 or set_size < 1 or padding < 0:
        raise ValueError("need count >= 0, set_size >= 1, padding >= 0")
    samples = list(range(count))
    shuffle(Mt19937(seed), samples)
    sets = [samples[i : i + set_size] for i in range(0, count, set_size)]
    for s in sets:
        s.extend(s[i] for i in range(padding))
    return sets


def sample_indices(seed: int, count: int, upper: int) -> I64Array:
    """Return ``count`` successive ``uniform_int_distribution(0, upper - 1)`` draws.

    The draws come from one fresh ``std::mt19937(seed)``. Note that LoadGen's
    ``GenerateQueries`` does *not* start drawing from a fresh engine: it first runs the
    ``performance_issue_unique`` and equal-issue shuffles on the same engine; use
    :func:`performance_sample_draws` for the exact LoadGen sequence.

    Args:
        seed: The engine seed.
        count: Number of draws, ``count >= 0``.
        upper: Exclusive upper bound, ``1 <= upper <= 2**32``.

    Returns:
        int64 array of ``count`` values in ``[0, upper)``.
    """
    return uniform_int(Mt19937(seed), count, upper)


def _prelude_shuffles(
    engine: Mt19937, distribution_end: int, loaded_set_size: int, stride: int, min_queries: int
) -> list[int]:
    """Run the shuffles ``GenerateQueries`` performs on ``sample_rng`` before any query.

    These are the ``performance_issue_unique`` order (``SampleDistribution<AccuracyOnly>``) and
    the equal-issue permutations (``SampleDistributionEqualIssue``: one ``std::shuffle`` of
    ``loaded_set_size`` indices per started block of ``loaded_set_size`` queries in
    ``min_queries``, each starting from the previous permutation). Both are constructed
    unconditionally (performance mode; accuracy mode runs its issue-order shuffle first).

    Returns:
        The concatenated equal-issue permutations.
    """
    shuffle(engine, list(range(0, distribution_end, stride)))
    concatenated: list[int] = []
    if loaded_set_size > 0:
        perm = list(range(loaded_set_size))
        for _ in range(0, min_queries, loaded_set_size):
            shuffle(engine, perm)
            concatenated.extend(perm)
    return concatenated


def performance_sample_draws(
    seed: int,
    count: int,
    distribution_end: int,
    *,
    loaded_set_size: int | None = None,
    stride: int = 1,
    min_queries: int = 0,
) -> I64Array:
    """Return the first ``count`` performance-mode sample draws of LoadGen's ``GenerateQueries``.

    ``GenerateQueries`` seeds ``std::mt19937 sample_rng(sample_index_rng_seed)``, then (before
    generating any query) shuffles on it the ``performance_issue_unique`` order and the
    equal-issue permutations, which are built even when unused, and only then draws
    ``uniform_int_distribution<int>(0, distribution_end - 1)`` once per sample (SingleStream,
    Server) or once per query (MultiStream: the start position of ``samples_per_query``
    contiguous samples). The values are positions into the loaded set; the QSL index is
    ``loaded_set[position]``. Offline performance queries use no randomness.

    Args:
        seed: ``sample_index_rng_seed``.
        count: Number of draws, ``count >= 0``.
        distribution_end: Loaded samples excluding MultiStream padding
            (``performance_sample_count``, or the last set's size).
        loaded_set_size: Length of the loaded set including MultiStream padding
            (default ``distribution_end``).
        stride: ``samples_per_query`` for MultiStream, else 1.
        min_queries: The ``min_queries`` of ``GenerateQueries`` (``min_query_count`` in
            performance mode; ``loaded_set_size // samples_per_query`` with
            ``performance_issue_unique``).

    Returns:
        int64 array of ``count`` positions in ``[0, distribution_end)``.
    """
    if distribution_end < 1 or stride < 1 or min_queries < 0:
        raise ValueError("need distribution_end >= 1, stride >= 1, min_queries >= 0")
    engine = Mt19937(seed)
    size = distribution_end if loaded_set_size is None else loaded_set_size
    _prelude_shuffles(engine, distribution_end, size, stride, min_queries)
    return uniform_int(engine, count, distribution_end)


def equal_issue_positions(seed: int, set_size: int, min_queries: int) -> I64Array:
    """Return the ``sample_concatenate_permutation`` positions of SingleStream/Server queries.

    With ``sample_concatenate_permutation`` (equal-issue mode) performance-mode SingleStream and
    Server queries take their sample positions from the equal-issue permutations that
    ``GenerateQueries`` builds up front: ``ceil(min_queries / set_size)`` successive
    ``std::shuffle`` calls on one permutation of ``range(set_size)``, concatenated; query ``i``
    uses element ``i % len(result)``. (MultiStream ignores the flag; Offline shuffles each
    repeat of the loaded set with :func:`shuffle` on the same engine instead.)

    Args:
        seed: ``sample_index_rng_seed``.
        set_size: Size of the loaded set.
        min_queries: ``min_query_count`` as given (before LoadGen pads it to a multiple of
            ``set_size``).

    Returns:
        int64 array of ``set_size * ceil(min_queries / set_size)`` positions.
    """
    if set_size < 1 or min_queries < 0:
        raise ValueError("need set_size >= 1 and min_queries >= 0")
    concatenated = _prelude_shuffles(Mt19937(seed), set_size, set_size, 1, min_queries)
    return np.array(concatenated, dtype=np.int64)


def accuracy_sample_order(seed: int, distribution_end: int, stride: int = 1) -> list[int]:
    """Return the accuracy-mode issue order of ``GenerateQueries`` for one loadable set.

    In accuracy mode the first thing drawn from ``std::mt19937(sample_index_rng_seed)`` is a
    ``std::shuffle`` of ``0, stride, 2*stride, ... < distribution_end``; queries then take these
    positions in order (one sample each, MultiStream: ``stride`` contiguous samples from each
    position, Offline: all of them in one query). The engine is re-seeded for every loadable
    set, so every set uses the same permutation of positions.

    Args:
        seed: ``sample_index_rng_seed``.
        distribution_end: Size of the loadable set excluding MultiStream padding.
        stride: ``samples_per_query`` for MultiStream, else 1.

    Returns:
        Positions into the loadable set, in issue order.
    """
    if distribution_end < 0 or stride < 1:
        raise ValueError("need distribution_end >= 0 and stride >= 1")
    order = list(range(0, distribution_end, stride))
    shuffle(Mt19937(seed), order)
    return order


def accuracy_log_values(seed: int, count: int) -> F64Array:
    """Return ``count`` draws of ``std::uniform_real_distribution<double>(0, 1)``.

    With ``b - a == 1`` and ``a == 0`` the distribution returns :func:`generate_canonical`
    exactly.

    Args:
        seed: The engine seed.
        count: Number of values, ``count >= 0``.

    Returns:
        float64 array of ``count`` values in ``[0, 1)``.
    """
    return generate_canonical(Mt19937(seed), count)


def accuracy_log_offset(seed: int) -> float:
    """Return the accuracy-log offset drawn once per ``IssueQueries`` call.

    It is the first ``uniform_real_distribution<double>(0, 1)`` draw of a fresh
    ``std::mt19937(accuracy_log_rng_seed)``.

    Args:
        seed: ``accuracy_log_rng_seed``.

    Returns:
        The offset in ``[0, 1)``.
    """
    return float(accuracy_log_values(seed, 1)[0])
