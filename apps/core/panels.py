"""Sections that apps contribute to the target and TCE pages without the catalog app importing them.

An app registers ``register_panel("tce", builder)`` in its AppConfig.ready(); the builder takes
``(request, obj)`` and returns a dict with ``title`` and ``html`` (already rendered, trusted
template output) and optionally ``bokeh: True`` when the page must load BokehJS.
"""

from __future__ import annotations

from collections.abc import Callable

_PANELS: dict[str, list[tuple[int, Callable]]] = {}


def register_panel(page: str, builder: Callable, *, order: int = 50) -> None:
    entries = _PANELS.setdefault(page, [])
    if builder not in [b for _, b in entries]:
        entries.append((order, builder))
        entries.sort(key=lambda item: item[0])


def collect_panels(page: str, *, request, obj) -> list[dict]:  # noqa: ANN001
    panels = []
    for _order, builder in _PANELS.get(page, []):
        panel = builder(request, obj)
        if panel:
            panels.append(panel)
    return panels
