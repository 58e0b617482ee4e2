"""Queue writes: keeping the queue rows current, and claiming the next TCE under a row lock (never over-serving)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.permissions import ADJUDICATE, LABEL
from apps.catalog.models import TCE
from apps.core.errors import NotFound
from apps.ml.models import Prediction
from apps.ml.panels import THRESHOLD
from apps.vetting.models import VettingClaim, VettingQueueSync, VettingState, VettingStatus
from apps.vetting.selectors import QUEUES, catalogue_sides, queue_model, queue_serves, queue_walk
from apps.vetting.services.labels import lock_tce, require_level

#: Candidates fetched per walk of the queue, and walks before giving up (everything locked or taken).
BATCH = 16
MAX_WALKS = 20
#: Ids below the last one seen that a sync looks at again: rows of transactions that committed after
#: a later id did (scoring writes 256 predictions per transaction, so stragglers are a few hundred ids
#: behind). How many rows that window held is kept, so stragglers committing later are noticed.
MARGIN = 2_000
#: pg_advisory_xact_lock key of queue_rows_sync ("vett").
SYNC_LOCK = 0x76657474


def _tail(model, last_id: int) -> int:  # noqa: ANN001
    """Rows of ``model`` with ids in (last_id - MARGIN, last_id]: a primary-key range count."""
    return model.objects.filter(pk__gt=last_id - MARGIN, pk__lte=last_id).count()


def _behind(model, mark: VettingQueueSync | None) -> bool:  # noqa: ANN001
    """Whether ``model`` has rows the mark has not seen: a higher id, or stragglers inside the window."""
    last_id = mark.last_id if mark else 0
    newest = model.objects.aggregate(m=Max("id"))["m"] or 0
    return newest > last_id or (mark is not None and _tail(model, last_id) != mark.tail)


def _sync_needed() -> bool:
    """One round trip when nothing is new: both tables' highest id and window counts against the marks."""
    marks = {m.name: m for m in VettingQueueSync.objects.all()}
    version = queue_model()
    tce_mark, score_mark = marks.get("tces"), marks.get("scores")
    if tce_mark is None or (version is not None and (score_mark is None or score_mark.model_version_id != version.pk)):
        return True
    checks = {"tce": (TCE, tce_mark)}
    if version is not None:
        checks["prediction"] = (Prediction, score_mark)
    parts, params = [], []
    for model, mark in checks.values():
        table = model._meta.db_table
        parts += [f"(SELECT max(id) FROM {table})", f"(SELECT count(*) FROM {table} WHERE id > %s AND id <= %s)"]
        params += [mark.last_id - MARGIN, mark.last_id]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    for index, (_model, mark) in enumerate(checks.values()):
        newest, tail = row[2 * index] or 0, row[2 * index + 1]
        if newest > mark.last_id or tail != mark.tail:
            return True
    return False


def queue_rows_sync(*, full: bool = False) -> dict:
    """Copy new TCEs (their SNR) and the default model's new scores into the queue rows (VettingState).

    Cheap when nothing changed (a few index lookups). New rows are found by id: TCEs and predictions
    with an id above the last one seen (minus MARGIN, and again when rows appeared inside that window);
    a new default model, or ``full``, copies all of its scores. One session syncs at a time (advisory
    lock); the others wait and then find nothing to do. SNR or disposition changes of TCEs already
    copied are picked up by ``full`` (``manage.py vetting_sync --full``). Returns rows written per kind.
    """
    if not full and not _sync_needed():
        return {"tces": 0, "scores": 0}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SYNC_LOCK])
        return {"tces": _sync_tces(full), "scores": _sync_scores(full)}


def _seen(model) -> dict:  # noqa: ANN001
    """The mark to store once the rows visible now are copied (read before copying: later rows stay ahead of it)."""
    newest = model.objects.aggregate(m=Max("id"))["m"] or 0
    return {"last_id": newest, "tail": _tail(model, newest), "synced_at": timezone.now()}


def _sync_tces(full: bool) -> int:
    mark, created = VettingQueueSync.objects.get_or_create(name="tces")
    if not full and not _behind(TCE, None if created else mark):
        return 0
    since = 0 if full or created else max(0, mark.last_id - MARGIN)
    seen = _seen(TCE)
    state, tce = VettingState._meta.db_table, TCE._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {state} (tce_id, status, n_labels, n_people, label, updated_at, snr)
                SELECT id, %s, 0, 0, '', now(), snr FROM {tce} WHERE id > %s
                ON CONFLICT (tce_id) DO UPDATE SET snr = EXCLUDED.snr""",
            [VettingStatus.NEEDS_LABELS, since],
        )
        written = cursor.rowcount
    VettingQueueSync.objects.filter(name="tces").update(**seen)
    return written


def _sync_scores(full: bool) -> int:
    version = queue_model()
    if version is None:
        return 0
    mark, created = VettingQueueSync.objects.get_or_create(name="scores")
    same_model = not created and mark.model_version_id == version.pk
    if not full and same_model and not _behind(Prediction, mark):
        return 0
    since = 0 if full or not same_model else max(0, mark.last_id - MARGIN)
    seen = _seen(Prediction)
    positive, negative = catalogue_sides(version.task)
    state, tce, prediction = VettingState._meta.db_table, TCE._meta.db_table, Prediction._meta.db_table
    # The newest score per TCE among all of the model's predictions of the TCEs that got new ones.
    changed = "" if since == 0 else f"AND p.tce_id IN (SELECT tce_id FROM {prediction} WHERE model_version_id = %(v)s AND id > %(since)s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {state} (tce_id, status, n_labels, n_people, label, updated_at, snr,
                                     score_version_id, probability, uncertainty, disagreement)
                SELECT DISTINCT ON (p.tce_id) p.tce_id, %(open)s, 0, 0, '', now(), t.snr, %(v)s, p.probability,
                       abs(p.probability - 0.5),
                       CASE WHEN (p.probability >= %(threshold)s AND t.disposition = ANY(%(negative)s))
                              OR (p.probability < %(threshold)s AND t.disposition = ANY(%(positive)s))
                            THEN abs(p.probability - 0.5) END
                FROM {prediction} p JOIN {tce} t ON t.id = p.tce_id
                WHERE p.model_version_id = %(v)s {changed}
                ORDER BY p.tce_id, p.created_at DESC, p.id DESC
                ON CONFLICT (tce_id) DO UPDATE SET
                    snr = EXCLUDED.snr, score_version_id = EXCLUDED.score_version_id, probability = EXCLUDED.probability,
                    uncertainty = EXCLUDED.uncertainty, disagreement = EXCLUDED.disagreement""",
            {"open": VettingStatus.NEEDS_LABELS, "v": version.pk, "since": since, "threshold": THRESHOLD,
             "positive": positive, "negative": negative},
        )
        written = cursor.rowcount
    VettingQueueSync.objects.filter(name="scores").update(model_version_id=version.pk, **seen)
    return written


def queue_next(*, user, queue: str) -> tuple[TCE, datetime] | None:  # noqa: ANN001
    """Claim the next TCE of ``queue`` for ``user``: (tce, claim expiry), or None when the queue is empty.

    In one transaction: the user's earlier live claims are released (they moved on; the TCE stays out
    of their queues until the claim would have expired), then candidates are taken in queue order,
    each locked with ``SELECT ... FOR NO KEY UPDATE SKIP LOCKED`` (one being claimed by someone else
    is skipped, not waited for) and checked again under the lock: the lock serialises everyone who
    claims or labels that TCE, so the check sees every committed claim and label. Only when every
    candidate was ineligible or busy are the busy ones waited for, one by one, and checked again.
    """
    definition = QUEUES.get(queue)
    if definition is None:
        raise NotFound(f"no queue {queue!r}; queues: {', '.join(QUEUES)}")
    require_level(user, ADJUDICATE if definition.adjudicators_only else LABEL, f"work the {queue} queue")
    if not definition.serves:
        return None
    queue_rows_sync()
    now = timezone.now()
    expires = now + timedelta(minutes=settings.GAIA_CLAIM_MINUTES)
    with transaction.atomic():
        mine = VettingClaim.objects.filter(user=user)
        mine.filter(expires_at__lte=now).delete()
        mine.filter(released_at__isnull=True).update(released_at=now)
        tried: list[int] = []
        busy: list[int] = []
        for _walk in range(MAX_WALKS):
            candidates = queue_walk(queue=queue, user=user, now=now, batch=BATCH, skip=tuple(tried))
            if not candidates:
                break
            for tce_id in candidates:
                tried.append(tce_id)
                outcome = _try_claim(tce_id, user=user, queue=queue, now=now, expires=expires, wait=False)
                if outcome == CLAIMED:
                    return TCE.objects.select_related("target").get(pk=tce_id), expires
                if outcome == BUSY:
                    busy.append(tce_id)
        # Everything free was taken: wait for those being claimed right now; one may keep a slot for us.
        # No TCE lock is held here (ineligible ones were let go), so waiting cannot deadlock.
        for tce_id in busy:
            if _try_claim(tce_id, user=user, queue=queue, now=now, expires=expires, wait=True) == CLAIMED:
                return TCE.objects.select_related("target").get(pk=tce_id), expires
    return None


CLAIMED, BUSY, NOT_SERVED = "claimed", "busy", "not served"


def _try_claim(tce_id: int, *, user, queue: str, now: datetime, expires: datetime, wait: bool) -> str:  # noqa: ANN001
    """Lock one candidate and claim it if the queue still serves it to ``user``.

    Runs in a savepoint: rolling back to it lets go of the row lock of a TCE we do not claim.
    """
    with transaction.atomic():
        if not lock_tce(tce_id, skip_locked=not wait):
            return BUSY
        if not queue_serves(queue=queue, tce_id=tce_id, user=user, now=now):
            transaction.set_rollback(True)
            return NOT_SERVED
        VettingClaim.objects.create(tce_id=tce_id, user=user, queue=queue, created_at=now, expires_at=expires)
        return CLAIMED
