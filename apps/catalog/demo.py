"""Demo data: real Kepler/K2/TESS files and catalogue tables in GAIA_DEMO_DATA (../shared/data)."""

from __future__ import annotations

from pathlib import Path

from apps.catalog.models import Mission
from apps.catalog.services import target_names_add

#: Common names of the demo stars (facts from the demo folder's MANIFEST.md and the literature).
DEMO_NAMES: dict[tuple[str, str], tuple[str, list[str]]] = {
    (Mission.KEPLER, "11442793"): ("Kepler-90", ["KOI-351"]),
    (Mission.KEPLER, "2306740"): ("KIC 2306740", ["KOI-6265", "eclipsing binary"]),
    (Mission.KEPLER, "8462852"): ("Boyajian's star", ["Tabby's star", "KIC 8462852"]),
    (Mission.KEPLER, "10874614"): ("Kepler-6", ["KOI-17"]),
    (Mission.KEPLER, "11446443"): ("TrES-2", ["Kepler-1", "KOI-1"]),
    (Mission.TESS, "25155310"): ("WASP-126", []),
    (Mission.TESS, "231663901"): ("WASP-46", []),
}


#: Folders of the demo light curves, one per mission (the layout of the demo MANIFEST.md).
DEMO_LIGHTCURVE_FOLDERS = ("kepler", "k2", "tess")


def demo_fits_files(demo_dir: Path) -> list[Path]:
    """Every Kepler, K2 and TESS light-curve file of the demo folder, by folder then name."""
    return [p for folder in DEMO_LIGHTCURVE_FOLDERS for p in sorted((demo_dir / folder).glob("*.fits"))]


def demo_names_apply() -> int:
    """Give the demo stars their common names and aliases (searchable as "Kepler-90")."""
    updated = 0
    for (mission, identifier), (name, aliases) in DEMO_NAMES.items():
        updated += target_names_add(mission=mission, identifier=identifier, name=name, aliases=aliases)
    return updated
