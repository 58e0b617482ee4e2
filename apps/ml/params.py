"""Parameters of the ``infer`` and ``train_model`` jobs, with their bounds."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from apps.core.bounds import MAX_IDS, DbId, JobParams, Text

Task = Literal["triage", "vetting"]
#: Training caps: an epoch over the Yu et al. shards takes minutes on a CPU; an ensemble trains N models.
MAX_EPOCHS, MAX_ENSEMBLE = 200, 10
MAX_SEED = 2**32 - 1
MAX_TRAIN_EXAMPLES = 10_000_000


class InferParams(JobParams):
    """Exactly one of ``target_id``, ``tce_ids`` or ``missing=true``; a model name or id, or the default."""

    target_id: DbId | None = None
    tce_ids: list[DbId] | None = Field(None, max_length=MAX_IDS)
    missing: bool = False
    model: DbId | Text | None = Field(None, description="model version id or name; default: the task's")
    task: Task = "triage"
    batch_size: int | None = Field(
        None, ge=1, le=MAX_IDS,
        description="with missing=true: split the run into child jobs of at most this many TCEs (apps/jobs/fanout.py)",
    )

    @model_validator(mode="after")
    def _one_selection(self) -> InferParams:
        chosen = [name for name in ("target_id", "tce_ids", "missing") if getattr(self, name)]
        if len(chosen) != 1:
            raise ValueError("give exactly one of target_id, tce_ids or missing=true")
        if self.batch_size is not None and not self.missing:
            raise ValueError("batch_size splits a catalogue-wide run: give it with missing=true")
        return self


class TrainParams(JobParams):
    task: Task = "triage"
    preset: Text | None = Field(None, description="model preset; default yu2019_<task>")
    epochs: int = Field(40, ge=1, le=MAX_EPOCHS)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    ensemble: int = Field(1, ge=1, le=MAX_ENSEMBLE)
    make_default: bool = False
    max_examples: int | None = Field(None, ge=1, le=MAX_TRAIN_EXAMPLES)

    @field_validator("preset", "max_examples", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return None if value == "" else value
