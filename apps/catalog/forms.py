"""Filter forms of the target and TCE lists (validated, then turned into selector keywords)."""

from __future__ import annotations

from django import forms

from apps.catalog.models import Disposition, Mission, TCESource

BLANK = [("", "any")]


class FilterForm(forms.Form):
    """A list page's filters, handed to its selector as keyword arguments."""

    def cleaned_filters(self) -> dict:
        """The valid form's values, an empty field as None (the selectors' "no filter")."""
        return {k: (v if v != "" else None) for k, v in self.cleaned_data.items()}


class TargetFilterForm(FilterForm):
    q = forms.CharField(required=False, label="identifier or name")
    mission = forms.ChoiceField(required=False, choices=BLANK + list(Mission.choices))
    mag_min = forms.FloatField(required=False, label="mag ≥")
    mag_max = forms.FloatField(required=False, label="mag ≤")
    teff_min = forms.FloatField(required=False, label="Teff ≥ (K)")
    teff_max = forms.FloatField(required=False, label="Teff ≤ (K)")
    has_tces = forms.NullBooleanField(
        required=False, label="has TCEs",
        widget=forms.Select(choices=[("", "any"), ("true", "yes"), ("false", "no")]),
    )
    has_lightcurves = forms.NullBooleanField(
        required=False, label="has light curves",
        widget=forms.Select(choices=[("", "any"), ("true", "yes"), ("false", "no")]),
    )
    disposition = forms.ChoiceField(required=False, choices=BLANK + list(Disposition.choices))
    sort = forms.ChoiceField(
        required=False,
        choices=[("", "identifier"), ("name", "name"), ("magnitude", "magnitude"), ("-magnitude", "magnitude ↓"),
                 ("teff", "Teff"), ("-teff", "Teff ↓"), ("-tces", "most TCEs")],
    )


class TCEFilterForm(FilterForm):
    q = forms.CharField(required=False, label="target")
    mission = forms.ChoiceField(required=False, choices=BLANK + list(Mission.choices))
    source = forms.ChoiceField(required=False, choices=BLANK + list(TCESource.choices))
    disposition = forms.ChoiceField(required=False, choices=BLANK + list(Disposition.choices))
    period_min = forms.FloatField(required=False, label="P ≥ (d)", min_value=0)
    period_max = forms.FloatField(required=False, label="P ≤ (d)", min_value=0)
    snr_min = forms.FloatField(required=False, label="SNR ≥")
    score_min = forms.FloatField(required=False, label="score ≥", min_value=0, max_value=1)
    sort = forms.ChoiceField(
        required=False,
        choices=[("", "target"), ("-score", "score ↓"), ("score", "score"), ("period", "period"), ("-period", "period ↓"), ("-snr", "SNR ↓"),
                 ("snr", "SNR"), ("-depth", "depth ↓"), ("depth", "depth"), ("duration", "duration")],
    )
