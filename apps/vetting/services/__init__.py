"""Writes for vetting: labels and adjudications, queue claims, catalogue labels, label snapshots."""

from apps.vetting.services.catalog import catalog_labels_import
from apps.vetting.services.export import labels_export, labels_export_artifacts, labels_snapshot
from apps.vetting.services.labels import adjudicate, label_add, lock_tce, state_refresh
from apps.vetting.services.queues import queue_next, queue_rows_sync

__all__ = [
    "adjudicate", "catalog_labels_import", "label_add", "labels_export", "labels_export_artifacts",
    "labels_snapshot", "lock_tce", "queue_next", "queue_rows_sync", "state_refresh",
]
