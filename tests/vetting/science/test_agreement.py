"""Agreement statistics against hand-computed values and scikit-learn's Cohen's kappa."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from apps.vetting.science.agreement import (
    category_counts,
    cohen_kappa,
    fleiss_kappa,
    pairwise_cohen,
    percent_agreement,
)


def test_it_computes_cohens_kappa_of_a_hand_worked_table():
    # 50 items: both yes 20, a yes / b no 5, a no / b yes 10, both no 15.
    # p_o = 35/50 = 0.7; p_yes = 25/50 * 30/50 = 0.3, p_no = 25/50 * 20/50 = 0.2; p_e = 0.5; kappa = 0.4
    a = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert percent_agreement(a, b) == pytest.approx(0.7)


@pytest.mark.parametrize("seed", range(5))
def test_it_matches_scikit_learn_on_random_multiclass_labels(seed):
    rng = np.random.default_rng(seed)
    codes = ["PC", "EB", "NEB", "FP", "V", "IS", "J"]
    a = list(rng.choice(codes, 80))
    b = [x if rng.random() < 0.6 else rng.choice(codes) for x in a]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_it_says_when_kappa_is_undefined():
    assert cohen_kappa(["PC"], ["PC"]) is None  # one item
    assert cohen_kappa(["PC", "PC"], ["PC", "PC"]) is None  # chance agreement 1
    assert cohen_kappa(["PC", "EB"], ["PC", "EB"]) == pytest.approx(1.0)
    assert percent_agreement([], []) is None
    with pytest.raises(ValueError, match="different numbers"):
        cohen_kappa(["PC"], ["PC", "EB"])


def test_it_computes_fleiss_kappa_of_fleiss_1971_worked_example():
    # The worked example on Wikipedia ("Fleiss' kappa"): 10 subjects, 14 raters, 5 categories, kappa = 0.210.
    counts = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
    assert fleiss_kappa(counts) == pytest.approx(0.20993, abs=1e-5)


def test_fleiss_equals_cohen_style_agreement_for_two_raters_by_hand():
    # Two raters, 4 items: (PC, PC), (PC, EB), (EB, EB), (J, J).
    # P_i = 1, 0, 1, 1 -> P_bar = 0.75; p = PC 3/8, EB 3/8, J 2/8 -> P_e = 22/64; kappa = (0.75 - 22/64) / (42/64) = 26/42
    counts = category_counts([["PC", "PC"], ["PC", "EB"], ["EB", "EB"], ["J", "J"]], ["PC", "EB", "J"])
    assert counts.tolist() == [[2, 0, 0], [1, 1, 0], [0, 2, 0], [0, 0, 2]]
    assert fleiss_kappa(counts) == pytest.approx(26 / 42)


def test_fleiss_ignores_items_with_one_rating_and_handles_unequal_raters():
    # Items with 3, 2 and 1 ratings; the last is ignored. Item 1: (PC, PC, EB) -> P = (4 + 1 - 3) / 6 = 1/3;
    # item 2: (EB, EB) -> P = 1. P_bar = 2/3; p_PC = 2/5, p_EB = 3/5 -> P_e = 13/25; kappa = (2/3 - 13/25) / (12/25) = 11/36
    counts = category_counts([["PC", "PC", "EB"], ["EB", "EB"], ["PC"]], ["PC", "EB"])
    assert fleiss_kappa(counts) == pytest.approx(11 / 36)
    assert fleiss_kappa([[2, 0], [2, 0]]) is None  # everyone always says the same thing
    assert fleiss_kappa([[1, 0]]) is None
    with pytest.raises(ValueError, match="categories"):
        category_counts([["PC", "XX"]], ["PC", "EB"])


def test_it_pairs_raters_over_their_shared_items():
    ratings = {"vera": {1: "PC", 2: "EB", 3: "J"}, "ada": {1: "PC", 2: "PC", 4: "V"}, "otto": {4: "V"}}
    pairs = pairwise_cohen(ratings)
    assert [(p["a"], p["b"], p["n"]) for p in pairs] == [("ada", "vera", 2)]
    assert pairs[0]["agreement"] == 0.5
