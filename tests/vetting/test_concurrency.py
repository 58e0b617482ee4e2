"""Concurrent claims against the real PostgreSQL never hand a TCE to more people than it needs."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from apps.vetting.models import VettingClaim
from apps.vetting.services import queue_next
from tests.conftest import make_user
from tests.factories import TCEFactory

N_THREADS = 10


def _claim_concurrently(users, queue: str, rounds: int) -> list[int | None]:  # noqa: ANN001
    """Every user asks for the next TCE at the same moment, ``rounds`` times; each thread has its own connection."""
    barrier = threading.Barrier(len(users))
    served: list[int | None] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(user) -> None:  # noqa: ANN001
        try:
            for _ in range(rounds):
                barrier.wait(timeout=30)
                claimed = queue_next(user=user, queue=queue)
                with lock:
                    served.append(claimed[0].pk if claimed else None)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return served


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_over_serve_a_tce(django_user_model, settings):
    settings.GAIA_LABELS_PER_TCE = 2
    users = [make_user(django_user_model, f"vetter{i}", "vetter") for i in range(N_THREADS)]
    tces = [TCEFactory(snr=float(10 + i)) for i in range(3)]
    served = _claim_concurrently(users, "unlabelled", rounds=1)
    per_tce = Counter(pk for pk in served if pk is not None)
    # 3 TCEs x 2 labels = 6 slots for 10 people asking at once: exactly 6 served, none twice over.
    assert sum(per_tce.values()) == 6 and set(per_tce) == {t.pk for t in tces}
    assert max(per_tce.values()) == 2
    live = Counter(VettingClaim.objects.filter(released_at__isnull=True).values_list("tce_id", flat=True))
    assert live == per_tce


@pytest.mark.django_db(transaction=True)
def test_repeated_concurrent_rounds_keep_each_tce_within_its_slots(django_user_model, settings):
    settings.GAIA_LABELS_PER_TCE = 1
    users = [make_user(django_user_model, f"vetter{i}", "vetter") for i in range(6)]
    for i in range(8):
        TCEFactory(snr=float(i))
    _claim_concurrently(users, "unlabelled", rounds=3)
    # Each round releases the asker's previous claim, so at the end only the live claims must fit the slots.
    live = Counter(VettingClaim.objects.filter(released_at__isnull=True).values_list("tce_id", flat=True))
    assert live and max(live.values()) == 1
    # ... and no person was ever handed the same TCE twice.
    per_person = Counter(VettingClaim.objects.values_list("user_id", "tce_id"))
    assert max(per_person.values()) == 1
