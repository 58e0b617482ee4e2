"""The vetting page's figure builders: arrays in, Bokeh models out, no database."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from bokeh.embed import json_item
from bokeh.models import ColumnDataSource, CustomJS

from apps.lightcurves.science.views import (
    PRESETS,
    bin_centres,
    binned_view,
    fold,
    normalisation,
    scale_view,
)
from apps.plots.vetting import (
    REFOLD_JS,
    attach_refold,
    depth_text,
    flattened_figure,
    odd_even_figure,
    phase_view_figure,
    refold_params_source,
    secondary_figure,
    series_source,
    transit_gallery,
    view_source,
)

RNG = np.random.default_rng(3)


def _cut(number: int, *, gappy: bool = False, depth: float = 0.01, snr: float = 25.0) -> dict:
    dt = np.linspace(-0.3, 0.3, 40)
    return {"number": number, "time": 100.0 + number, "dt": dt, "flux": 1 - depth * (np.abs(dt) < 0.05),
            "coverage": 0.4 if gappy else 1.0, "gappy": gappy, "depth": depth, "snr": snr}


def test_it_overlays_odd_and_even_with_their_depths_and_the_difference_in_sigma():
    x = np.linspace(-8, 8, 61)
    fig = odd_even_figure(x, -np.ones(61), -0.5 * np.ones(61), odd_depth=0.012, even_depth=0.0061, sigma=7.25, x_label="h")
    assert "7.2 σ" in fig.title.text or "7.3 σ" in fig.title.text
    labels = [item.label["value"] for item in fig.legend[0].items]
    assert labels == ["odd: 1.20 %", "even: 6100 ppm"]
    assert len(fig.renderers) == 4  # a line and points for each parity, on one axis


def test_it_titles_the_secondary_with_its_phase_and_depth():
    fig = secondary_figure(np.arange(61.0), np.zeros(61), offset_days=5.0, period=10.0, depth=2e-4, sigma=3.0, x_label="h")
    assert "phase 0.500" in fig.title.text and "200 ppm" in fig.title.text and "3.0 σ" in fig.title.text


def test_it_formats_missing_numbers_as_a_dash():
    assert depth_text(None) == "—" and depth_text(float("nan")) == "—"
    fig = secondary_figure(np.arange(3.0), np.zeros(3), offset_days=None, period=1.0, depth=None, sigma=float("nan"), x_label="h")
    assert "phase —" in fig.title.text


def test_it_draws_one_cut_out_per_transit_coloured_by_parity_and_marks_missing_data():
    fig = transit_gallery([_cut(0), _cut(1), _cut(2, gappy=True)], ncols=2)

    def data(name):  # noqa: ANN001, ANN202
        return fig.select_one({"name": name}).data_source.data

    titles = data("cutout-titles")
    assert list(titles["number"]) == [0, 1, 2]
    assert titles["text"][0].startswith("#0 odd · 1.00 % · SNR 25.0") and titles["text"][1].startswith("#1 even")
    missing = data("cutout-missing")
    assert list(missing["text"]) == ["missing data"] and list(missing["number"]) == [2]
    cells = data("cutout-cells")
    assert cells["fill"][2] != cells["fill"][0] == cells["fill"][1]
    points = data("cutout-points")
    by_transit = {n: points["transit"] == n for n in (0, 1, 2)}
    assert set(points["color"][by_transit[0]]) != set(points["color"][by_transit[1]])  # odd and even
    # one depth scale: transits 0 and 1 (same row) are drawn at the same heights, one cell apart
    np.testing.assert_allclose(points["y"][by_transit[0]], points["y"][by_transit[1]])
    width = cells["middle"][1] - cells["middle"][0]
    np.testing.assert_allclose(points["x"][by_transit[1]] - points["x"][by_transit[0]], width)
    for i, n in enumerate((0, 1, 2)):  # every point inside its own cell
        x, y = points["x"][by_transit[n]], points["y"][by_transit[n]]
        assert (cells["left"][i] <= x).all() and (x <= cells["right"][i]).all()
        assert (cells["bottom"][i] <= y).all() and (y <= cells["top"][i]).all()
    assert cells["top"][2] < cells["bottom"][0]  # the third transit starts the second row
    assert transit_gallery([]) is None


def test_it_shades_the_transits_on_the_flattened_light_curve():
    source = series_source(np.linspace(0, 30, 500), np.ones(500), name="refold-flat")
    fig = flattened_figure(source, transit_times=np.array([5.0, 15.0, 25.0]), duration_days=0.2, time_label="BKJD")
    strips = [r for r in fig.renderers if type(r.glyph).__name__ == "VStrip"]
    assert len(strips) == 1
    np.testing.assert_allclose(strips[0].data_source.data["x0"], [4.9, 14.9, 24.9])


def test_it_links_the_local_panels_through_shared_ranges():
    local = phase_view_figure(view_source(np.arange(5.0), np.zeros(5), name="v"), title="Local", x_label="h", name="view-local")
    odd_even = odd_even_figure(np.arange(5.0), np.zeros(5), np.zeros(5), odd_depth=None, even_depth=None, sigma=None,
                               x_label="h", x_range=local.x_range, y_range=local.y_range)
    assert odd_even.x_range is local.x_range and odd_even.y_range is local.y_range


def test_it_keeps_user_text_out_of_the_figures():
    # The builders take numbers only; nothing in their JSON can hold a person's note.
    fig = odd_even_figure(np.arange(3.0), np.zeros(3), np.zeros(3), odd_depth=1e-3, even_depth=1e-3, sigma=0.1, x_label="h")
    assert "<" not in json.dumps(json_item(fig))


def test_it_attaches_the_refold_callback_to_the_parameters():
    params = refold_params_source(period=10.0, epoch=1.0, duration_hours=3.0)
    flat = series_source(np.arange(10.0), np.ones(10), name="refold-flat")
    target = view_source(np.arange(3.0), np.zeros(3), name="view-global-source")
    callback = attach_refold(params, flat, {"global": (target, {"num_bins": 3, "bin_width": 0.3, "half_width": None}, 1.0)})
    assert isinstance(callback, CustomJS)
    assert params.js_property_callbacks["change:data"] == [callback]
    assert params.name == "refold-params" and params.data["period"] == [10.0]
    with pytest.raises(ValueError):
        attach_refold(params, flat, {}, how="mode")


NODE_HARNESS = """
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const flat = {data: {time: input.time, flux: input.flux}};
const params = {data: input.params};
const targets = {};
for (const [name, t] of Object.entries(input.targets)) targets[name] = {source: {data: null}, geometry: t.geometry, x_scale: t.x_scale};
const how = "median";
(function () { %s })();
const out = {};
for (const [name, t] of Object.entries(targets)) out[name] = t.source.data;
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_browser_refold_bins_as_the_pipeline_does():
    period, epoch, duration_h = 3.7, 1.3, 2.5
    time = np.sort(RNG.uniform(0, 90, 6000))
    phase = fold(time, period, epoch)
    flux = 1 + 1e-4 * RNG.standard_normal(time.size) - 0.004 * (np.abs(phase) < duration_h / 48)
    preset = PRESETS["yu2019"]
    geometry = {
        "global": {"num_bins": preset.global_view.num_bins, "bin_width": preset.global_view.bin_width, "half_width": None},
        "local": {"num_bins": preset.local_view.num_bins, "bin_width": preset.local_view.bin_width,
                  "half_width": preset.local_view.half_width_durations},
    }
    payload = {"time": time.tolist(), "flux": flux.tolist(), "params": {"period": [period], "epoch": [epoch], "duration": [duration_h]},
               "targets": {"global": {"geometry": geometry["global"], "x_scale": 1.0},
                           "local": {"geometry": geometry["local"], "x_scale": 24.0}}}
    result = subprocess.run(["node", "-e", NODE_HARNESS % REFOLD_JS], input=json.dumps(payload), capture_output=True, text=True, check=True)
    got = json.loads(result.stdout)
    order = np.argsort(phase)
    fill = float(np.median(flux))
    for name, spec, scale in (("global", preset.global_view, 1.0), ("local", preset.local_view, 24.0)):
        view, _ = binned_view(phase[order], flux[order], spec, period, duration_h / 24, fill)
        expected = scale_view(view, *normalisation(view))
        np.testing.assert_allclose(got[name]["y"], expected, atol=1e-9)
        np.testing.assert_allclose(got[name]["x"], scale * bin_centres(spec, period, duration_h / 24), atol=1e-9)


def test_it_needs_a_named_source_for_each_view():
    source = view_source(np.arange(3.0), np.ones(3), name="view-local-source")
    assert isinstance(source, ColumnDataSource) and source.name == "view-local-source"
