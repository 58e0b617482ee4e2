"""numba order statistics: exact medians without sorting, for the robust clipping of the spline.

``median_inplace`` is a plain quickselect (the obvious kernel). ``median_sampled`` returns the
same value bit for bit in two passes over the data: it counts the values below eight pivots
taken from a strided sample around the middle (one vectorised pass), copies only those between
the two pivots that bracket the middle ranks (a few percent), and quickselects that short
list. The counts say exactly which ranks the copy holds, so a poor sample costs time, never
the answer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SAMPLE = 32
"""Points in the strided sample that brackets a median."""

WORK = 2 * SAMPLE + 16
"""Length of median_sampled's small workspace: the sample, its ranks, pivots and counts."""

PIVOT_RANKS = (-6, -4, -2, -1, 0, 1, 3, 5)
"""Sample ranks of the pivots relative to the target's: 1 to 2 sample ranks (3 to 6 % of the
values) between neighbours, and about 2 sigma of the target's sample rank to either end."""


@njit(cache=True)
def _insertion_sort(a):
    for i in range(1, a.shape[0]):
        v = a[i]
        j = i
        while j > 0 and a[j - 1] > v:
            a[j] = a[j - 1]
            j -= 1
        a[j] = v


@njit(cache=True)
def select_inplace(a, k):
    """Rearrange a in place so a[k] is its k-th smallest value (quickselect); return a[k].

    Branch-free Lomuto partitions around a median-of-three pivot: on data the branch predictor
    cannot learn (residuals) they cost a third of a branching partition. A lopsided partition
    is followed by one that splits off the values equal to the pivot, so ties stay linear.
    """
    lo = 0
    hi = a.shape[0] - 1
    while hi - lo > 16:
        mid = (lo + hi) // 2
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
        pivot = a[mid]
        a[mid] = a[hi]
        a[hi] = pivot
        j = lo
        for i in range(lo, hi):  # a[lo:j] < pivot <= a[j:i]
            v = a[i]
            a[i] = a[j]
            a[j] = v
            j += v < pivot
        a[hi] = a[j]
        a[j] = pivot
        if j == k:
            return pivot
        if k < j:
            hi = j - 1
            continue
        lopsided = 16 * (j - lo) < hi - lo  # few values below the pivot: maybe many equal to it
        lo = j + 1
        if lopsided:
            m = lo
            for i in range(lo, hi + 1):  # a[lo:m] == pivot < a[m:i]
                v = a[i]
                a[i] = a[m]
                a[m] = v
                m += v == pivot
            if k < m:
                return pivot
            lo = m
    _insertion_sort(a[lo : hi + 1])
    return a[k]


@njit(cache=True)
def _middle(a, k, even):
    """After select_inplace(a, k): a[k], or the mean of a[k] and the largest value before it."""
    upper = a[k]
    if not even:
        return upper
    lower = a[0]
    for j in range(1, k):
        if a[j] > lower:
            lower = a[j]
    return 0.5 * (lower + upper)


@njit(cache=True)
def median_inplace(a):
    """np.median of a (n >= 1), reordering a: the mean of the two middle values when n is even."""
    n = a.shape[0]
    k = n // 2
    select_inplace(a, k)
    return _middle(a, k, n % 2 == 0)


@njit(cache=True)
def sample_pivots(a, q, work):
    """Eight values that finely bracket a's q-quantile (0 <= q < 1) with high probability.

    work: (WORK,) workspace; returns its view ``work[2 * SAMPLE : 2 * SAMPLE + 8]`` holding
    the pivots: pivot j is the order statistic ``int(q * SAMPLE) + PIVOT_RANKS[j]`` of a
    strided sample of SAMPLE values, or -inf/+inf below/above the middle where that rank is
    missing (ties, or the margin runs off the sample): a missing pivot only widens a bracket.
    Ranks are counted (branch-free, vectorised) instead of sorting the sample, whose
    comparisons the branch predictor cannot learn.
    """
    n = a.shape[0]
    sample = work[:SAMPLE]
    rank = work[SAMPLE : 2 * SAMPLE]
    piv = work[2 * SAMPLE : 2 * SAMPLE + 8]
    step = n / SAMPLE
    for i in range(SAMPLE):
        sample[i] = a[int((i + 0.5) * step)]
    for i in range(SAMPLE):
        v = sample[i]
        r = np.int32(0)
        for j in range(SAMPLE):
            r += np.int32(sample[j] < v)
        rank[i] = r
    for j in range(8):
        piv[j] = -np.inf if PIVOT_RANKS[j] < 0 else np.inf
    c = int(q * SAMPLE)
    for i in range(SAMPLE):
        for j in range(8):
            if rank[i] - c == PIVOT_RANKS[j]:
                piv[j] = sample[i]
    return piv


@njit(cache=True)
def count_below(a, piv, cnt):
    """cnt[j] = number of values of a below piv[j], for the eight pivots in one pass."""
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = np.int32(0)
    p0, p1, p2, p3 = piv[0], piv[1], piv[2], piv[3]
    p4, p5, p6, p7 = piv[4], piv[5], piv[6], piv[7]
    for k in range(a.shape[0]):  # eight accumulators in registers: the loop vectorises
        v = a[k]
        c0 += np.int32(v < p0)
        c1 += np.int32(v < p1)
        c2 += np.int32(v < p2)
        c3 += np.int32(v < p3)
        c4 += np.int32(v < p4)
        c5 += np.int32(v < p5)
        c6 += np.int32(v < p6)
        c7 += np.int32(v < p7)
    cnt[0], cnt[1], cnt[2], cnt[3] = c0, c1, c2, c3
    cnt[4], cnt[5], cnt[6], cnt[7] = c4, c5, c6, c7


@njit(cache=True)
def _gather(a, lo, hi, buf):
    """Copy the values in [lo, hi) to the front of buf (order kept); return how many."""
    m = 0
    for k in range(a.shape[0]):
        v = a[k]
        buf[m] = v  # branch-free: the slot is overwritten unless v is kept
        m += (v >= lo) & (v < hi)
    return m


@njit(cache=True)
def median_sampled(a, buf, work):
    """np.median of a (n >= 1, not reordered), exactly; buf: (n,) and work: (WORK,) workspace.

    Counts the values below eight pivots drawn from a sample around the middle, copies those
    between the two pivots that bracket the middle ranks (a few percent of a), and
    quickselects them. Pivots that miss only widen the copied range; NaNs in a make the
    counts disagree and fall back to a full quickselect of a copy.
    """
    n = a.shape[0]
    k = n // 2
    even = n % 2 == 0
    first = k - 1 if even else k  # the middle ranks are first..k
    if n < 4 * SAMPLE:
        buf[:n] = a
        return median_inplace(buf[:n])
    piv = sample_pivots(a, (k + 0.5) / n, work)
    cnt = work[2 * SAMPLE + 8 : 2 * SAMPLE + 16]  # exact in float64
    count_below(a, piv, cnt)
    lo, below = -np.inf, 0
    hi, upto = np.inf, n
    for j in range(8):
        if cnt[j] <= first:
            lo, below = piv[j], int(cnt[j])
        if cnt[7 - j] > k:
            hi, upto = piv[7 - j], int(cnt[7 - j])
    m = _gather(a, lo, hi, buf)
    if m != upto - below:
        buf[:n] = a
        return median_inplace(buf[:n])
    w = buf[:m]
    select_inplace(w, k - below)
    return _middle(w, k - below, even)


@njit(cache=True)
def median_copy(a):
    """np.median of a 1-D array (NaN when empty), leaving a as it is."""
    n = a.shape[0]
    nan = n == 0
    for k in range(n):
        nan |= np.isnan(a[k])
    if nan:
        return np.nan
    return median_sampled(a, np.empty(n), np.empty(WORK))


def median(values: np.ndarray) -> float:
    """np.median of a 1-D array (NaN when empty), exactly, in about a third of its time."""
    return float(median_copy(np.ascontiguousarray(values, dtype=np.float64)))
