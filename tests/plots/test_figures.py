"""The light-curve figure's legend stays small however many quarters or sectors are drawn, and the
centroid figure shares the light curve's time axis."""

from __future__ import annotations

import numpy as np

from apps.plots.figures import CentroidSegment, Segment, centroid_figure, lightcurve_figure


def segments(n: int) -> list[Segment]:
    time = np.linspace(0.0, 10.0, 50)
    flagged = np.zeros(50, dtype=bool)
    flagged[3] = True
    return [Segment(f"S{k}", time + 30 * k, np.ones(50), flagged) for k in range(1, n + 1)]


def legend_labels(fig) -> list[str]:  # noqa: ANN001
    return [item.label["value"] for legend in fig.legend for item in legend.items]


def test_it_has_one_legend_entry_for_all_segments_however_many():
    marks = [(f"TCE {k}", np.array([5.0, 35.0])) for k in range(1, 10)]
    fig = lightcurve_figure(segments(120), time_label="time (BTJD)", transit_times=marks)
    labels = legend_labels(fig)
    assert labels[:2] == ["S1–S120", "flagged"]
    assert labels[2:] == [f"TCE {k} transits" for k in range(1, 7)]  # at most six TCEs are marked
    assert len(fig.right) == 1 and fig.legend[0].click_policy == "hide"


def test_the_centroid_figure_shares_the_light_curves_time_axis():
    lc = lightcurve_figure(segments(2), time_label="time (BTJD)")
    time = np.linspace(0.0, 10.0, 50)
    cen = centroid_figure(
        [CentroidSegment("S1", time, 500 + 0.01 * np.sin(time), 300 + 0.01 * np.cos(time))],
        x_range=lc.x_range, time_label="time (BTJD)", transit_times=[("TCE 1", np.array([5.0]))],
    )
    assert cen.x_range is lc.x_range
    assert legend_labels(cen) == ["column", "row", "TCE 1 transits"]
    column = cen.renderers[0].data_source.data["c"]
    assert abs(float(np.median(column))) < 1e-12  # shifts about the segment's median


def test_it_refetches_the_zoomed_window_only_for_downsampled_segments_with_a_series_url():
    time = np.linspace(0.0, 10.0, 50)
    clean = np.zeros(50, dtype=bool)
    drawn = [
        Segment("Q1", time, np.ones(50), clean, series_url="/api/lightcurves/1/series", downsampled=True),
        Segment("Q2", time + 30, np.ones(50), clean, series_url="/api/lightcurves/2/series", downsampled=False),
        Segment("Q3", time + 60, np.ones(50), clean),
    ]
    fig = lightcurve_figure(drawn, time_label="time (BJD)", zoom_points=900)
    callbacks = fig.x_range.js_property_callbacks
    assert set(callbacks) == {"change:start", "change:end"}
    args = callbacks["change:start"][0].args
    assert args["urls"] == ["/api/lightcurves/1/series"] and args["labels"] == ["Q1"] and args["points"] == 900
    assert args["spans"] == [[0.0, 10.0]]
    assert args["goods"][0].name == "flux:Q1" and args["bads"][0].name == "flagged:Q1"
    assert "flagged" not in legend_labels(fig)  # nothing flagged yet: no legend entry for the empty crosses
    assert not lightcurve_figure(drawn[1:], time_label="t").x_range.js_property_callbacks
