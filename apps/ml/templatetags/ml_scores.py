"""``{% score_source tce %}``: which model made a TCE's catalogue score, with a domain warning.

Lists load it (``{% load ml_scores %}``) next to ``TCE.score``, so every score on the site names its
model; the catalogue app needs no import of this one.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html

from apps.ml.selectors import score_source as find_score_source

register = template.Library()


@register.simple_tag(takes_context=True)
def score_source(context, tce) -> str:  # noqa: ANN001
    """A link to the model card of the model behind ``tce.score`` and ⚠ when the TCE lies outside its
    training domain (the reason in the title); empty when the TCE has no score."""
    if getattr(tce, "score", None) is None:
        return ""
    cache = context.render_context.setdefault("ml_score_sources", {})
    source = find_score_source(tce, cache=cache)
    if source is None:
        return ""
    version = source.version
    link = format_html(
        '<a class="score-model" href="{}" title="{} {}">{}</a>',
        reverse("ml-model-detail", args=[version.pk]), version.name, version.weights_sha256[:10], version.name,
    )
    if not source.warning:
        return link
    return format_html(
        '{} <span class="model-warning" role="note" title="{}">⚠ outside its training domain</span>',
        link, source.warning,
    )
