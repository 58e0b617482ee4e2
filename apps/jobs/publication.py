"""Artifact files published but never recorded: found again and removed (no Django app imports
beyond jobs' own models).

``artifact_store`` links a staged file to ``artifacts/<key>/v<N>/`` and then writes its row. A
writer killed between the two, or whose caller's transaction rolled back (a GALEX reduction
records all its products in one transaction), would leave a file no row references. So before
linking it writes an *intent* beside the staged file, in the job's staging folder, naming the
final path. When the job's run ends, or when the job is claimed again after its worker died, the
intents are checked: a final path that no Artifact row references is removed.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from apps.core.files import data_root
from apps.core.storage import product_delete, product_exists, products_are_local
from apps.jobs.models import Artifact

logger = logging.getLogger(__name__)

INTENT_SUFFIX = ".publishing"


def intent_path(staged: Path) -> Path:
    """Where the intent of publishing ``staged`` is recorded (beside it, in the staging folder)."""
    return staged.with_name(staged.name + INTENT_SUFFIX)


def artifact_publications_recover(folder: Path) -> list[str]:
    """Remove the published files of ``folder``'s leftover intents that no row references.

    Returns the removed paths (relative to DATA_ROOT). Safe only while no writer uses ``folder``
    (a job's folder, when its claim is ours).
    """
    removed = []
    for intent in sorted(folder.glob(f"*{INTENT_SUFFIX}")):
        relative = intent.read_text().strip()
        if relative and not Artifact.objects.filter(path=relative).exists() and product_exists(relative):
            product_delete(relative)
            removed.append(relative)
            if products_are_local():
                with contextlib.suppress(OSError):
                    (data_root() / relative).parent.rmdir()  # the version folder, when nothing else is in it
        intent.unlink(missing_ok=True)
    if removed:
        logger.warning("removed %d artifact file(s) published without a row: %s", len(removed), removed)
    return removed
