"""Search presets and the rules that make a measured candidate a detection: thresholds, vetoes,
and their replay at other thresholds from a run's recorded rounds (what the benchmark calibrates
the thresholds with)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InvalidInput
from .views import fold


@dataclass(frozen=True)
class SearchPreset:
    """A named recipe for the transit search.

    Attributes
    ----------
    name : str
    engine : {"bls", "tls"}
        Periodogram: our numba BLS, or ``transitleastsquares`` (optional dependency).
    window_factor : float
        Detrending window over the longest trial duration (wotan's 3).
    min_window, max_window : float
        Bounds on the window, days.
    rotation_fraction : float
        A star whose rotation is strong (semi-amplitude above ``rotation_snr`` point sigmas)
        gets a window of at most this fraction of its rotation period (and so shorter trial
        durations): the twiced biweight then leaves ~1 % of the rotation.
    q_min, q_max : float
        Trial durations as fractions of the central transit duration at each period.
    period_oversample : float
        Ofir grid oversampling.
    min_transits : int
        Transits with data a candidate needs.
    min_sde, min_snr : float
        Detection thresholds, chosen by ``bench/bench_search.py`` on 1,000 injections and 135
        null light curves (the best recall with at most 1 false alarm per 100 nulls; see the
        README); the SDE applies to signals with three transits or more.
    min_snr_two : float
        The SNR threshold for a candidate with only two transits with data: two dips line up
        at some period in any light curve with systematics, so they must be stronger.
    min_rest : float
        Single-event test: without its strongest transit, a candidate's SNR must keep this
        fraction of what equal transits would leave (``SNR sqrt((N - 1) / N)``), so one deep
        dip (a dimming event, a systematic) cannot carry a periodic signal.
    extra_rounds : int
        Rounds beyond ``max_signals`` spent on strong candidates that a veto stopped (each is
        masked, not reported).
    edge_days : float
        Cadences this close to a segment's start or end are left out of the search (TESS
        orbits begin with thermal ramps; a trend is least certain at an edge).
    """

    name: str
    engine: str = "bls"
    window_factor: float = 3.0
    min_window: float = 0.2
    max_window: float = 3.0
    rotation_fraction: float = 0.08
    rotation_snr: float = 20.0
    q_min: float = 0.3
    q_max: float = 1.3
    period_oversample: float = 3.0
    min_transits: int = 2
    min_sde: float = 5.0
    min_snr: float = 7.0
    min_snr_two: float = 16.0
    min_rest: float = 0.5
    edge_days: float = 0.3
    peaks_examined: int = 5
    extra_rounds: int = 3


SEARCH_PRESETS: dict[str, SearchPreset] = {
    "gaia": SearchPreset("gaia"),
    "tls": SearchPreset("tls", engine="tls"),
}
"""``gaia`` (default): twiced sliding biweight + our BLS; ``tls``: the same with TLS as engine."""


def get_search_preset(name: str | SearchPreset) -> SearchPreset:
    if isinstance(name, SearchPreset):
        return name
    try:
        return SEARCH_PRESETS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown search preset {name!r}; choose one of {', '.join(SEARCH_PRESETS)}"
        ) from None


def vetoes(c: dict, p: SearchPreset) -> list[str]:
    """Why a candidate is not a transit, whatever its strength: the star's rotation, one event
    carrying it (``min_rest``), a few deep events among empty epochs, odd and even transits of
    different depths at the final period (after the P/2 check), a lopsided dip (a flare upside down, a ramp: the two halves of
    the box differ by > 4 sigma and by half the depth), a duration the star cannot give."""
    out = []
    if c["rotation"]:
        out.append("rotation")
    if c["rest"] < p.min_rest:
        out.append("single event")
    if c["shortfall"] > 2.5:
        out.append("few deep events")
    if c["odd_even"] > 4:
        out.append("odd/even")
    if c["asym_sigma"] > 4 and c["asym_frac"] > 0.5:
        out.append("asymmetric")
    if c["duration_ratio"] != 1.0:
        out.append("duration")
    return out


def passes(c: dict, p: SearchPreset, sde_min: float, snr_min: float, snr_two: float) -> bool:
    """Whether a measured candidate is a detection: SNR (higher with two transits), SDE (for a
    weaker signal of three transits or more), transits with data, a positive depth, and no veto
    (:func:`vetoes`).

    The SDE says little of a two-transit signal or of a strong one: every period that puts the
    same events in phase scores alike (over sectors years apart, a comb of thousands; a hot
    Jupiter's P/2, 2P, 3P/2 ...), so the spectrum's scatter is mostly the signal's own aliases.
    A signal at the two-transit SNR threshold needs no SDE: that threshold bounds false alarms.
    """
    n = c["n_transits"]
    return bool(
        (n == 2 or c["snr"] >= snr_two or c["sde"] >= sde_min)
        and c["snr"] >= (snr_two if n == 2 else snr_min)
        and n >= p.min_transits and c["depth"] > 0 and not vetoes(c, p)
    )


CLEARED = {
    "rotation": False, "rest": 1.0, "shortfall": 0.0, "odd_even": 0.0, "asym_sigma": 0.0,
    "duration_ratio": 1.0,
}
"""Candidate values that no veto objects to: a vetoed candidate with them would pass."""


def _round_choice(cands: list[dict], p: SearchPreset, th: tuple[float, float, float]) -> tuple[int | None, bool]:
    """What a round does at thresholds ``th`` (sde, snr, snr_two): (index of the candidate it
    takes, whether it reports it) -- the strongest that passes is reported; else the strongest
    that only a veto stopped is masked; else (None, False): the search ends."""
    sde, snr, two = th
    ok = [i for i, c in enumerate(cands) if passes(c, p, sde, snr, two)]
    if ok:
        return max(ok, key=lambda i: cands[i]["snr"]), True
    strong = [
        i for i, c in enumerate(cands)
        if vetoes(c, p) and passes({**c, **CLEARED}, p, sde, snr, two)
    ]  # fmt: skip
    return (max(strong, key=lambda i: cands[i]["snr"]), False) if strong else (None, False)


def _same_transits(a: dict, b: dict) -> bool:
    """Whether two candidates mark the same events: one's epoch falls in the other's transits
    (a period and its alias, whose masks cover the shared transits)."""
    width = max(a["duration"], b["duration"])
    return bool(
        abs(fold(np.array([a["epoch"]]), b["period"], b["epoch"])[0]) < width
        or abs(fold(np.array([b["epoch"]]), a["period"], a["epoch"])[0]) < width
    )


def replay(
    rounds: list[list[dict]], p: SearchPreset, th: tuple[float, float, float], max_signals: int = 3
) -> list[dict]:
    """The candidates a search at thresholds ``th`` (sde, snr, snr_two) would report, replayed
    from the ``rounds`` of a run with the thresholds lifted (``min_sde = min_snr = -inf``).

    A round is replayed only while it would take (report or mask) the candidate the recorded
    run took, or one marking the same transits (an alias of it, whose mask covers them), since
    what a round sees depends on what the earlier ones masked; where the two part, the replay
    stops: a conservative count (it can miss a later report, never invent one).
    """
    lifted = (-np.inf, -np.inf, -np.inf)
    found: list[dict] = []
    for cands in rounds:
        if len(found) >= max_signals:
            break
        taken, reported = _round_choice(cands, p, th)
        recorded = _round_choice(cands, p, lifted)[0]
        if taken is None or recorded is None or not _same_transits(cands[taken], cands[recorded]):
            break
        if reported:
            found.append(cands[taken])
    return found
