"""``/api/targets/{id}/galex``: the GALEX eclipses whose field holds a catalogue target."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from apps.catalog.selectors import target_get
from apps.galex import selectors

router = Router(tags=["galex"])


class TargetEclipseOut(Schema):
    eclipse_id: int
    number: int | None
    band: str
    status: str
    leg: int
    separation_deg: float
    url: str


@router.get("/targets/{target_id}/galex", response=list[TargetEclipseOut])
def target_eclipses(request: HttpRequest, target_id: int):
    target = target_get(target_id=target_id)
    return [
        {"eclipse_id": link.eclipse_id, "number": link.eclipse.number, "band": link.eclipse.band,
         "status": link.eclipse.status, "leg": link.leg, "separation_deg": round(link.separation_deg, 5),
         "url": f"/galex/{link.eclipse_id}/"}  # fmt: skip
        for link in selectors.target_eclipses(target_id=target.pk)
    ]
