"""Reads and figures for the vetting page (``/vet/tces/<id>/``): everything a vetter needs on one screen.

The view calls ``vet_screen`` (database reads) and ``vet_figures`` (pure builders from
``apps.plots.vetting`` fed with the light-curve app's arrays), then embeds the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from apps.catalog.models import TCE
from apps.lightcurves.panels import diagnostic_rows
from apps.lightcurves.selectors import (
    FOLD_MAX_POINTS,
    TCEMeasures,
    default_preset,
    flattened_latest,
    tce_cutouts,
    tce_fold_series,
    tce_measures,
    tce_view_presets,
    tce_views_latest,
    view_axes,
    view_geometry,
)
from apps.ml.selectors import default_prediction, tce_domain_warning, training_domain
from apps.plots.vetting import (
    attach_refold,
    flattened_figure,
    odd_even_figure,
    periodogram_figure,
    phase_view_figure,
    refold_params_source,
    secondary_figure,
    series_source,
    transit_gallery,
    view_source,
)
from apps.vetting.models import LABEL_ORDER, VettingLabel, VettingStatus
from apps.vetting.selectors import consensus, label_history, state_of

#: Most per-transit cut-outs drawn (the first ones in time); the page says when there are more.
MAX_CUTOUTS = 60


@dataclass(frozen=True)
class ModelScore:
    """The default triage model's newest calibrated probability for a TCE, and whether to trust it."""

    probability: float
    model_name: str
    model_id: int
    weights_sha256: str
    views_version: int
    trained_on: str
    warning: str | None


@dataclass
class VetScreen:
    tce: TCE
    measures: TCEMeasures
    presets: list[str]
    preset: str | None
    score: ModelScore | None
    status: str
    status_text: str
    status_label: str
    n_people: int
    votes: dict[str, int]
    my_label: VettingLabel | None
    history: list[VettingLabel]
    label_keys: list[tuple[str, str, int]] = field(default_factory=list)


def label_keys() -> list[tuple[str, str, int]]:
    """(code, text, key) of each label in the page's key order: 1 is a planet candidate."""
    return [(code, VettingLabel.Choice(code).label, index) for index, code in enumerate(LABEL_ORDER, start=1)]


def model_score(*, tce: TCE) -> ModelScore | None:
    prediction = default_prediction(tce_id=tce.pk, mission=tce.mission)
    if prediction is None:
        return None
    version = prediction.model_version
    return ModelScore(
        probability=prediction.probability, model_name=version.name, model_id=version.pk,
        weights_sha256=version.weights_sha256, views_version=prediction.views_version,
        trained_on=training_domain(version).description,
        warning=tce_domain_warning(version, tce),
    )


def vet_screen(*, tce: TCE, user, preset: str | None = None) -> VetScreen:  # noqa: ANN001
    """What the vetting page shows of ``tce`` to ``user``; ``preset`` falls back to the mission's default."""
    presets = tce_view_presets(tce_id=tce.pk)
    if preset not in presets:
        preferred = default_preset(tce.mission)
        preset = preferred if preferred in presets else (presets[0] if presets else None)
    history = list(label_history(tce_id=tce.pk))
    agreed = consensus(tce_id=tce.pk)
    state = state_of(tce_id=tce.pk)
    mine = None
    if getattr(user, "is_authenticated", False):
        mine = next((label for label in history if label.user_id == user.pk), None)
    return VetScreen(
        tce=tce, measures=tce_measures(tce=tce), presets=presets, preset=preset, score=model_score(tce=tce),
        status=state.status, status_text=VettingStatus(state.status).label, status_label=state.label,
        n_people=agreed.n_people, votes=agreed.votes, my_label=mine, history=history, label_keys=label_keys(),
    )


@dataclass
class VetFigures:
    """Bokeh models by slot, plus what the page says about them."""

    figures: dict = field(default_factory=dict)
    diagnostics: list[tuple[str, str]] = field(default_factory=list)
    views_version: int | None = None
    n_transits: int = 0
    n_cutouts: int = 0
    fold_points: int = 0
    fold_total: int = 0
    refold: bool = False
    geometry: dict = field(default_factory=dict)


def _has_signal(view: np.ndarray | None) -> bool:
    return view is not None and bool(np.any(np.abs(np.asarray(view, float)) > 0))


def vet_figures(*, tce: TCE, preset: str) -> VetFigures:
    """The linked panels of one preset: global and local views (re-foldable), odd/even, secondary,
    centroid, the flattened light curve, the per-transit gallery and the periodogram."""
    out = VetFigures()
    latest = tce_views_latest(tce_id=tce.pk, preset=preset)
    if latest is None:
        return out
    views, artifact = latest
    diagnostics = artifact.meta.get("diagnostics", {})
    out.views_version, out.diagnostics = artifact.version, diagnostic_rows(diagnostics)
    axes = view_axes(preset=preset, period=tce.period_days, duration_hours=tce.duration_hours)
    g_axis, l_axis = axes["global_view"], axes["local_view"]
    global_source = view_source(g_axis.x, views["global_view"], name="view-global-source")
    local_source = view_source(l_axis.x, views["local_view"], name="view-local-source")
    glob = phase_view_figure(global_source, title="Global view (whole period)", x_label=g_axis.label, name="view-global")
    local = phase_view_figure(local_source, title="Local view (around the transit)", x_label=l_axis.label, name="view-local")
    figs = {"global": glob, "local": local}
    if "odd_view" in views and "even_view" in views:
        figs["odd_even"] = odd_even_figure(
            l_axis.x, views["odd_view"], views["even_view"], odd_depth=diagnostics.get("odd_depth"),
            even_depth=diagnostics.get("even_depth"), sigma=diagnostics.get("odd_even_sigma"), x_label=l_axis.label,
            x_range=local.x_range, y_range=local.y_range,
        )
    if "secondary_view" in views:
        figs["secondary"] = secondary_figure(
            axes["secondary_view"].x, views["secondary_view"], offset_days=diagnostics.get("secondary_phase"),
            period=tce.period_days, depth=diagnostics.get("secondary_depth"), sigma=diagnostics.get("secondary_sigma"),
            x_label=axes["secondary_view"].label, y_range=local.y_range,
        )
    if _has_signal(views.get("centroid_local_view")):
        figs["centroid_local"] = phase_view_figure(
            view_source(l_axis.x, views["centroid_local_view"], name="centroid-local-source"),
            title="Centroid shift, local", x_label=l_axis.label, y_label="shift (px)", name="centroid-local",
            x_range=local.x_range,
        )
        figs["centroid_global"] = phase_view_figure(
            view_source(g_axis.x, views["centroid_global_view"], name="centroid-global-source"),
            title="Centroid shift, global", x_label=g_axis.label, y_label="shift (px)", name="centroid-global",
            x_range=glob.x_range,
        )
    flattened = flattened_latest(target_id=tce.target_id, preset=preset)
    if flattened is not None:
        fold = tce_fold_series(tce=tce, preset=preset, max_points=FOLD_MAX_POINTS, flattened=flattened)[0]
        flat_source = series_source(fold.time, fold.flux, name="refold-flat")
        observed = np.asarray(diagnostics.get("transit_time") or [], float)
        figs["flattened"] = flattened_figure(
            flat_source, transit_times=observed, duration_days=tce.duration_hours / 24.0,
            time_label=f"time ({tce.epoch_system})",
        )
        geometry = view_geometry(preset)
        params = refold_params_source(period=tce.period_days, epoch=tce.epoch, duration_hours=tce.duration_hours)
        attach_refold(params, flat_source, {"global": (global_source, geometry["global"], 1.0),
                                            "local": (local_source, geometry["local"], 24.0)})
        glob.tags = [params]  # keeps the parameters (and their callback) in the page's document
        out.refold, out.geometry = True, geometry
        out.fold_points, out.fold_total = int(fold.time.size), fold.n_total
        data = flattened[0]
        time, flux = np.asarray(data["time"], float), np.asarray(data["flux"], float)
        cutouts = tce_cutouts(tce=tce, time=time, flux=flux, diagnostics=diagnostics, limit=MAX_CUTOUTS)
        gallery = transit_gallery(cutouts)
        if gallery is not None:
            figs["gallery"] = gallery
        out.n_cutouts = len(cutouts)
    out.n_transits = int(diagnostics.get("n_transits") or 0)
    periodogram = (tce.extra or {}).get("periodogram")
    if isinstance(periodogram, dict) and periodogram.get("period") and periodogram.get("power"):
        figs["periodogram"] = periodogram_figure(periodogram["period"], periodogram["power"], marks=[tce.period_days])
    out.figures = figs
    return out

