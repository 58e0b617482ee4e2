"""The labelled view set: injections (labels, star ids, strength, reproducibility) and DR24 TCEs."""

from __future__ import annotations

import numpy as np
import pytest

from apps.ml.science import noise
from apps.ml.science import training_views as tv
from apps.ml.science.datasets import load_view_dir, split_by_star
from apps.ml.science.errors import InjectionError


def _real_star(star_id: int = 4242, days: float = 120.0) -> tv.NoiseSource:
    time, flux = noise.simulated_light_curve(days=days, rng=np.random.default_rng(star_id))
    return tv.NoiseSource(f"KIC {star_id}", star_id, "Kepler", time, flux)


def _examples(n: int, *, seed: int = 0, real_fraction: float = 0.5, **fractions):
    config = tv.InjectionConfig(
        real_fraction=real_fraction,
        window_days=(60.0, 100.0),
        kind_fractions=fractions.get("kinds", (0.25, 0.25, 0.25, 0.25)),
    )
    return list(
        tv.injection_examples(n, seed=seed, sources=[_real_star()], preset="yu2019", config=config)
    )


def test_it_gives_real_star_injections_that_stars_id_and_each_simulation_its_own() -> None:
    examples = _examples(16)
    real = [e for e in examples if e.meta["mission"] == "Kepler"]
    simulated = [e for e in examples if e.meta["mission"] == "simulated"]
    assert real and simulated
    assert {e.star_id for e in real} == {4242}
    ids = [e.star_id for e in simulated]
    assert len(set(ids)) == len(ids) and min(ids) >= tv.SIMULATED_STAR_BASE


def test_it_injects_into_real_light_curves_with_long_gaps() -> None:
    time, flux = noise.simulated_light_curve(days=150.0, rng=np.random.default_rng(9))
    keep = (time < 50) | (time > 100)  # a 50-day hole, like Boyajian's star between Q13 and Q15
    gapped = tv.NoiseSource("KIC 99", 99, "Kepler", time[keep], flux[keep])
    config = tv.InjectionConfig(real_fraction=1.0, window_days=(40.0, 60.0))
    examples = list(
        tv.injection_examples(6, seed=0, sources=[gapped], preset="yu2019", config=config)
    )
    assert {e.star_id for e in examples} == {99}


def test_it_labels_planets_one_and_binaries_nulls_and_inversions_zero() -> None:
    examples = _examples(16, seed=1)
    kinds = {e.meta["kind"] for e in examples}
    assert kinds == set(tv.KINDS)
    for e in examples:
        assert e.label == (1 if e.meta["kind"] == "planet" else 0)
        assert e.disposition == tv.DISPOSITIONS[e.meta["kind"]]
        assert e.views["global_view"].shape == (201,) and e.views["local_view"].shape == (61,)
        assert all(np.isfinite(v).all() for v in e.views.values())


def test_it_plants_only_signals_a_search_could_find_and_ebs_that_look_like_binaries() -> None:
    examples = _examples(12, seed=2, real_fraction=0.0, kinds=(0.5, 0.5, 0.0, 0.0))
    for e in examples:
        assert e.meta["true_mes"] >= 7.1
        assert e.meta["true_mes"] == pytest.approx(e.meta["true_target_mes"], rel=0.25)
        if e.meta["kind"] == "eb":
            unequal = e.meta["true_odd_depth"] != e.meta["true_even_depth"]
            assert unequal or e.meta["true_secondary_depth"] > 0


def test_it_centres_planted_transits_in_the_local_view() -> None:
    planets = _examples(6, seed=3, real_fraction=0.0, kinds=(1.0, 0.0, 0.0, 0.0))
    centre = np.mean([p.views["local_view"][27:34].min() for p in planets])
    edges = np.mean([np.abs(p.views["local_view"][:10]).mean() for p in planets])
    assert centre < -0.7 and edges < 0.3


def test_it_turns_transits_into_bumps_for_inverted_examples() -> None:
    inverted = _examples(4, seed=4, real_fraction=0.0, kinds=(0.0, 0.0, 0.0, 1.0))
    for e in inverted:
        local = e.views["local_view"]
        assert local[28:33].mean() > local[:10].mean()  # the bump is at the centre


def test_it_reproduces_an_example_from_the_seed_and_index_alone() -> None:
    config = tv.InjectionConfig(window_days=(60.0, 90.0))
    kwargs = {"seed": 7, "sources": [_real_star()], "preset": "yu2019", "config": config}
    a = tv.injection_example(3, **kwargs)
    b = tv.injection_example(3, **kwargs)
    c = tv.injection_example(4, **kwargs)
    np.testing.assert_array_equal(a.views["global_view"], b.views["global_view"])
    np.testing.assert_equal(a.meta, b.meta)  # NaN diagnostics (no centroids) compare equal here
    assert a.meta["period"] != c.meta["period"]


def test_it_rejects_bad_injection_settings() -> None:
    with pytest.raises(InjectionError, match="kind_fractions"):
        tv.InjectionConfig(kind_fractions=(1.0, 0.0)).validate()
    with pytest.raises(InjectionError, match="real_fraction"):
        tv.InjectionConfig(real_fraction=1.5).validate()


def test_it_averages_into_longer_cadences_like_a_plain_loop() -> None:
    rng = np.random.default_rng(0)
    time = np.sort(rng.uniform(0, 2, 500))
    flux = rng.normal(1, 0.01, 500)
    binned_t, binned_f = noise.bin_light_curve(time, flux, 0.1)
    step = float(np.median(np.diff(time)))
    expected = []
    for k in range(int(np.ceil((time[-1] - time[0]) / 0.1)) + 1):
        inside = (time - time[0] >= k * 0.1) & (time - time[0] < (k + 1) * 0.1)
        if inside.sum() >= 0.5 * 0.1 / step:
            expected.append((time[inside].mean(), flux[inside].mean()))
    np.testing.assert_allclose(np.c_[binned_t, binned_f], np.array(expected), rtol=1e-12)


def test_it_finds_the_epoch_of_a_box_at_a_known_period() -> None:
    time = np.arange(0, 30, 0.02)
    flux = 1 + np.random.default_rng(1).normal(0, 1e-4, time.size)
    flux[np.abs((time - 1.3 + 1.5) % 3.0 - 1.5) < 0.05] -= 0.01
    epoch = noise.deepest_epoch(time, flux, 3.0, 2.4)
    assert abs((epoch - 1.3 + 1.5) % 3.0 - 1.5) < 0.02


def test_it_masks_the_hot_jupiters_of_the_tess_noise(demo_data) -> None:
    curves = noise.tess_noise_light_curves(demo_data)
    assert [name for name, _, _ in curves] == ["TIC 25155310", "TIC 231663901"]
    for (_, time, flux), (path, period, hours) in zip(
        curves, noise.TESS_NOISE_FILES.values(), strict=True
    ):
        raw_t, raw_f = noise._read_kepler_flux(demo_data / path)
        raw_epoch = noise.deepest_epoch(raw_t, raw_f, period, hours / 2)
        in_raw = np.abs((raw_t - raw_epoch + period / 2) % period - period / 2) < hours / 96
        planet_depth = 1 - raw_f[in_raw].mean()
        epoch = noise.deepest_epoch(time, flux, period, hours / 2)
        inside = np.abs((time - epoch + period / 2) % period - period / 2) < hours / 96
        assert planet_depth > 0.005 and 1 - flux[inside].mean() < 0.1 * planet_depth
        assert np.median(np.diff(time)) == pytest.approx(noise.KEPLER_LONG_CADENCE_DAYS, rel=0.05)


def test_it_builds_views_of_the_dr24_labelled_tces_it_has_light_curves_for(demo_data) -> None:
    examples, skipped = tv.dr24_examples(demo_data, preset="yu2019")
    labels = {e.tce_id: (e.disposition, e.label) for e in examples}
    assert labels == {
        "2306740-01": ("AFP", 0),
        "2306740-02": ("AFP", 0),
        "2306740-03": ("AFP", 0),
        "10874614-01": ("PC", 1),
        "11446443-01": ("PC", 1),
        "11442793-01": ("PC", 1),  # Kepler-90 h: P = 331.6 d > the 3 quarters, one transit in them
    }
    assert skipped == []
    tres2 = next(e for e in examples if e.tce_id == "11446443-01")
    assert tres2.meta["cadence"] == "short" and tres2.views["local_view"][28:33].min() == -1.0


def test_it_writes_a_set_split_by_star_without_the_dr24_stars_in_its_noise(
    demo_data, tmp_path
) -> None:
    config = tv.InjectionConfig(real_fraction=1.0, window_days=(60.0, 90.0))
    manifest = tv.build_training_views(
        demo_data, tmp_path, n_injections=12, preset="yu2019", seed=5, config=config
    )
    assert manifest["injections"]["n"] == 12 and manifest["dr24"]["n"] == 6
    data = load_view_dir(tmp_path / "injections")
    assert set(data.star_ids.tolist()) <= {8462852, 25155310, 231663901}
    parts = split_by_star(data.star_ids, seed=0)
    stars = [set(data.star_ids[p].tolist()) for p in parts]
    assert not (stars[0] & stars[1] or stars[0] & stars[2] or stars[1] & stars[2])
    dr24 = load_view_dir(tmp_path / "dr24")
    assert sorted(dr24.labels.tolist()) == [0, 0, 0, 1, 1, 1]
    with pytest.raises(InjectionError, match="already holds"):
        tv.build_training_views(demo_data, tmp_path, n_injections=1, preset="yu2019")


def test_it_injects_into_the_dr24_stars_only_when_asked(demo_data, tmp_path) -> None:
    held_out = tv.real_noise_sources(demo_data, exclude=tv.dr24_labelled_stars(demo_data))
    everything = tv.real_noise_sources(demo_data)
    assert 2306740 not in {s.star_id for s in held_out}
    assert 2306740 in {s.star_id for s in everything}
