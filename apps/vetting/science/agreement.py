"""Agreement statistics for categorical labels: percent agreement, Cohen's kappa and Fleiss' kappa.

Pure functions on sequences of hashable labels (no Django). A kappa is ``None`` where it is undefined:
fewer than two items, or chance agreement of 1 (every rating in one category).

Cohen's kappa (two raters, the same items): kappa = (p_o - p_e) / (1 - p_e), with p_o the observed
agreement and p_e = sum_k p_a(k) p_b(k) from each rater's own marginals (Cohen 1960; the formula of
scikit-learn's ``cohen_kappa_score`` without weights).

Fleiss' kappa (any number of raters per item, at least two): with n_ij the raters putting item i in
category j and n_i = sum_j n_ij, P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1)), P_bar = mean_i P_i,
p_j = sum_i n_ij / sum_i n_i and P_e = sum_j p_j^2, kappa = (P_bar - P_e) / (1 - P_e) (Fleiss 1971;
with unequal n_i this is the usual generalisation, which reduces to Fleiss' when all n_i are equal).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence

import numpy as np


def percent_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Fraction of items on which two raters agree; None without items."""
    _check_pairs(a, b)
    if not a:
        return None
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters' labels of the same items (``a[i]`` and ``b[i]`` rate item i)."""
    _check_pairs(a, b)
    n = len(a)
    if n < 2:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in count_a) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def category_counts(items: Sequence[Sequence[Hashable]], categories: Sequence[Hashable] | None = None) -> np.ndarray:
    """(n_items, n_categories) int matrix of how many raters put each item in each category.

    ``items[i]`` holds the labels item i received (one per rater). ``categories`` fixes the columns
    (default: every label seen, sorted by its string).
    """
    if categories is None:
        categories = sorted({label for labels in items for label in labels}, key=str)
    column = {category: j for j, category in enumerate(categories)}
    counts = np.zeros((len(items), len(categories)), dtype=np.int64)
    for i, labels in enumerate(items):
        for label in labels:
            if label not in column:
                raise ValueError(f"label {label!r} is not one of the categories {list(categories)}")
            counts[i, column[label]] += 1
    return counts


def fleiss_kappa(counts: np.ndarray | Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa from an (items, categories) count matrix; items with fewer than two ratings are ignored."""
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError("counts must be a 2-D (items, categories) matrix")
    if (table < 0).any():
        raise ValueError("counts must be non-negative")
    raters = table.sum(axis=1)
    table, raters = table[raters >= 2], raters[raters >= 2]
    if table.shape[0] < 2:
        return None
    per_item = ((table * table).sum(axis=1) - raters) / (raters * (raters - 1))
    observed = float(per_item.mean())
    shares = table.sum(axis=0) / raters.sum()
    expected = float((shares * shares).sum())
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def pairwise_cohen(ratings: Mapping[Hashable, Mapping[Hashable, Hashable]], *, min_items: int = 2) -> list[dict]:
    """Cohen's kappa for every pair of raters over the items both rated.

    ``ratings[rater][item] = label``. Returns one dict per pair with ``a``, ``b`` (raters in sorted
    order), ``n`` (shared items), ``agreement`` and ``kappa``; pairs sharing fewer than ``min_items``
    items are left out.
    """
    raters = sorted(ratings, key=str)
    pairs = []
    for index, first in enumerate(raters):
        for second in raters[index + 1 :]:
            shared = sorted(set(ratings[first]) & set(ratings[second]), key=str)
            if len(shared) < min_items:
                continue
            a = [ratings[first][item] for item in shared]
            b = [ratings[second][item] for item in shared]
            pairs.append({"a": first, "b": second, "n": len(shared),
                          "agreement": percent_agreement(a, b), "kappa": cohen_kappa(a, b)})
    return pairs


def _check_pairs(a: Sequence[Hashable], b: Sequence[Hashable]) -> None:
    if len(a) != len(b):
        raise ValueError(f"the two raters rated different numbers of items ({len(a)} and {len(b)})")
