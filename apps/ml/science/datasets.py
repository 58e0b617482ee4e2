"""Labelled views as arrays: the Yu et al. 2019 TESS TFRecords and our own per-TCE ``.npz`` view files.

Both sources end in the same `LabelledViews`: one float32 array of shape (n, length) per view, one
float32 array of shape (n, k) of scalar features, float32 labels (n,) in {0, 1}, and per-example
star and TCE identifiers (used to split by star, never by TCE).

View-directory layout (``--views DIR``), one ``.npz`` per TCE as written by the light-curve pipeline::

    DIR/<anything>.npz     arrays, any subset of VIEW_NAMES (lightcurves' views), each 1-D float:
                           global_view, local_view, odd_view, even_view, secondary_view,
                           centroid_local_view, centroid_global_view
                           label      0-d int/float: 1 = planet candidate (DR24 PC), 0 = AFP/NTP
                                      or 0-d str disposition ("PC", "AFP", "NTP"; mapped with
                                      KEPLER_LABELS)
                           star_id    0-d int (KIC / TIC), used for the split by star
                           tce_id     0-d str, e.g. "11442793-01" (default: the file stem)
                           <scalar>   0-d float, optional scalar features named in the model config

Files are read in sorted file-name order so that results are reproducible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .tfrecord import FeatureValue, read_examples

# Yu et al. 2019 (Astronet-Triage / Astronet-Vetting label_map). Our triage map follows the issue:
# O ("other", 3 examples in these shards) is a negative; one version of Astronet-Triage mapped it to 1.
TRIAGE_LABELS = {"PC": 1, "EB": 1, "J": 0, "V": 0, "IS": 0, "O": 0}
VETTING_LABELS = {"PC": 1, "EB": 0, "J": 0, "V": 0, "IS": 0, "O": 0}
TASK_LABELS = {"triage": TRIAGE_LABELS, "vetting": VETTING_LABELS}
# People's vetting labels (apps.vetting codes; "?" is never a training label). Triage keeps every
# astrophysical eclipse or transit (Kepler AFPs count positive there too), vetting planets only.
PEOPLE_LABELS = {
    "triage": {"PC": 1, "EB": 1, "NEB": 1, "FP": 1, "V": 0, "IS": 0, "J": 0},
    "vetting": {"PC": 1, "EB": 0, "NEB": 0, "FP": 0, "V": 0, "IS": 0, "J": 0},
}
# Kepler DR24 av_training_set (Shallue & Vanderburg 2018); DR25 INV/SCR simulated TCEs are negatives.
KEPLER_LABELS = {"PC": 1, "AFP": 0, "NTP": 0, "INV": 0, "SCR": 0, "SCR1": 0, "INJ1": 1}


@dataclass
class LabelledViews:
    """Views, scalar features and labels of n TCEs.

    Attributes
    ----------
    views : dict of str to ndarray
        View name -> float32 array (n, length). Folded, binned, normalised flux (depth at -1).
    scalars : ndarray
        float32 (n, k) raw scalar features, in the order of ``scalar_names``.
    scalar_names : tuple of str
        Names of the k scalar columns.
    labels : ndarray
        float32 (n,), 1 = positive class of the task.
    star_ids : ndarray
        int64 (n,) TIC or KIC of the host star.
    tce_ids : ndarray
        str (n,) identifier of each TCE.
    dispositions : ndarray
        str (n,) original label strings (e.g. "PC", "EB", "J").
    """

    views: dict[str, np.ndarray]
    scalars: np.ndarray
    scalar_names: tuple[str, ...]
    labels: np.ndarray
    star_ids: np.ndarray
    tce_ids: np.ndarray
    dispositions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def concat(self, other: LabelledViews) -> LabelledViews:
        """These examples followed by ``other``'s (same views and scalar columns)."""
        if set(self.views) != set(other.views) or self.scalar_names != other.scalar_names:
            raise DatasetError("cannot join example sets with different views or scalar features")
        dispositions = (
            np.concatenate([self.dispositions, other.dispositions])
            if len(self.dispositions) and len(other.dispositions) else np.zeros(0, dtype=str)
        )
        return LabelledViews(
            views={k: np.concatenate([v, other.views[k]]) for k, v in self.views.items()},
            scalars=np.concatenate([self.scalars, other.scalars]),
            scalar_names=self.scalar_names,
            labels=np.concatenate([self.labels, other.labels]),
            star_ids=np.concatenate([self.star_ids, other.star_ids]),
            tce_ids=np.concatenate([self.tce_ids, other.tce_ids]),
            dispositions=dispositions,
        )

    def subset(self, index: np.ndarray) -> LabelledViews:
        """The examples at ``index`` (integer or boolean array), as a new object."""
        return LabelledViews(
            views={k: v[index] for k, v in self.views.items()},
            scalars=self.scalars[index],
            scalar_names=self.scalar_names,
            labels=self.labels[index],
            star_ids=self.star_ids[index],
            tce_ids=self.tce_ids[index],
            dispositions=self.dispositions[index] if len(self.dispositions) else self.dispositions,
        )


def label_dispositions(dispositions: Sequence[str], task: str) -> np.ndarray:
    """Map disposition strings to 0/1 labels for ``task`` ("triage" or "vetting"); float32 (n,).

    Raises
    ------
    DatasetError
        Unknown task or a disposition the task's map does not know.
    """
    if task not in TASK_LABELS:
        raise DatasetError(f"unknown task {task!r}; expected one of {sorted(TASK_LABELS)}")
    mapping = TASK_LABELS[task]
    unknown = sorted({d for d in dispositions if d not in mapping})
    if unknown:
        raise DatasetError(f"dispositions {unknown} have no {task} label; known: {sorted(mapping)}")
    return np.array([mapping[d] for d in dispositions], dtype=np.float32)


def _feature_scalar(example: Mapping[str, FeatureValue], name: str, index: int) -> float:
    value = example.get(name)
    if value is None or isinstance(value, list) or value.size != 1:
        raise DatasetError(f"example {index} has no scalar feature {name!r}")
    return float(value[0])


def _first_number(example: Mapping[str, FeatureValue], name: str, index: int) -> float | int:
    """The first value of a numeric feature (ids and periods are one-value lists)."""
    value = example[name]
    if isinstance(value, list) or value.size == 0:
        raise DatasetError(f"example {index}: feature {name!r} holds no number")
    return value[0].item()


def _star_id(example: Mapping[str, FeatureValue], index: int) -> int:
    if "tic_id" not in example:
        return -1
    value = _first_number(example, "tic_id", index)
    if not (np.isfinite(value) and -(2**63) <= value < 2**63):
        raise DatasetError(f"example {index}: tic_id {value} is not a star number")
    return int(value)


def _disposition(example: Mapping[str, FeatureValue], index: int) -> str:
    value = example.get("Disposition")
    if not isinstance(value, list) or not value:
        raise DatasetError(f"example {index} has no Disposition")
    try:
        return value[0].decode()
    except UnicodeDecodeError as exc:
        raise DatasetError(f"example {index}: Disposition {value[0][:20]!r} is not text") from exc


def _stack_view(examples: Sequence[Mapping[str, FeatureValue]], name: str) -> np.ndarray:
    rows = []
    for index, example in enumerate(examples):
        value = example.get(name)
        if value is None or isinstance(value, list):
            raise DatasetError(f"example {index} has no float view {name!r}")
        rows.append(value)
    lengths = {row.shape[0] for row in rows}
    if len(lengths) > 1:
        raise DatasetError(f"view {name!r} has mixed lengths {sorted(lengths)}")
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, 0), np.float32)


def examples_to_views(
    examples: Sequence[Mapping[str, FeatureValue]],
    *,
    task: str,
    view_names: Sequence[str],
    scalar_names: Sequence[str] = (),
) -> LabelledViews:
    """Assemble parsed Yu 2019 Examples (see `read_examples`) into `LabelledViews` for ``task``."""
    dispositions = [_disposition(example, index) for index, example in enumerate(examples)]
    scalars = np.array(
        [[_feature_scalar(ex, name, i) for name in scalar_names] for i, ex in enumerate(examples)],
        dtype=np.float32,
    ).reshape(len(examples), len(scalar_names))
    star_ids = np.array([_star_id(ex, i) for i, ex in enumerate(examples)], dtype=np.int64)
    tce_ids = np.array(
        [
            f"{star}-{float(_first_number(ex, 'Period', i)):.6f}"
            if "Period" in ex
            else f"{star}-{i}"
            for i, (star, ex) in enumerate(zip(star_ids, examples, strict=True))
        ]
    )
    return LabelledViews(
        views={name: _stack_view(examples, name) for name in view_names},
        scalars=scalars,
        scalar_names=tuple(scalar_names),
        labels=label_dispositions(dispositions, task),
        star_ids=star_ids.astype(np.int64),
        tce_ids=tce_ids,
        dispositions=np.array(dispositions),
    )


def load_tfrecord_views(
    paths: Iterable[str | Path],
    *,
    task: str,
    view_names: Sequence[str] = ("global_view", "local_view"),
    scalar_names: Sequence[str] = (),
    verify: bool = True,
) -> LabelledViews:
    """Read Yu 2019 TFRecord files into `LabelledViews` (CRCs checked unless ``verify=False``)."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise DatasetError("no TFRecord files given")
    examples = read_examples(paths, verify=verify)
    return examples_to_views(examples, task=task, view_names=view_names, scalar_names=scalar_names)


def yu2019_files(root: str | Path, task: str, split: str) -> list[Path]:
    """The Yu 2019 shard files of ``task`` and ``split`` ("train" or "val") under ``root``.

    ``root`` is the demo data folder (containing ``tess_yu2019/``) or ``tess_yu2019`` itself.
    """
    root = Path(root)
    base = root / "tess_yu2019" if (root / "tess_yu2019").is_dir() else root
    files = sorted((base / task).glob(f"{split}-*"))
    if not files:
        raise DatasetError(f"no {split} shards for task {task!r} under {base}")
    return files


def _npz_label(value: np.ndarray, path: Path) -> float:
    item = value.item() if value.shape == () else None
    if isinstance(item, str):
        if item not in KEPLER_LABELS:
            raise DatasetError(f"{path}: unknown label {item!r}; known: {sorted(KEPLER_LABELS)}")
        return float(KEPLER_LABELS[item])
    if item is None or float(item) not in (0.0, 1.0):
        raise DatasetError(f"{path}: label must be a 0-d 0/1 value or disposition string")
    return float(item)


def load_view_dir(
    directory: str | Path,
    *,
    view_names: Sequence[str] = ("global_view", "local_view"),
    scalar_names: Sequence[str] = (),
) -> LabelledViews:
    """Read one ``.npz`` per TCE from ``directory`` (layout in the module docstring).

    Raises
    ------
    DatasetError
        No files, a missing array, inconsistent view lengths or a bad label; the message names the file.
    """
    files = sorted(Path(directory).glob("*.npz"))
    if not files:
        raise DatasetError(f"no .npz view files in {directory}")
    rows: dict[str, list[np.ndarray]] = {name: [] for name in view_names}
    scalars, labels, stars, tces, dispositions = [], [], [], [], []
    for path in files:
        with np.load(path, allow_pickle=False) as data:
            missing = [n for n in (*view_names, "label", *scalar_names) if n not in data.files]
            if missing:
                raise DatasetError(f"{path}: missing arrays {missing}")
            for name in view_names:
                rows[name].append(np.asarray(data[name], dtype=np.float32).ravel())
            scalars.append([float(data[name]) for name in scalar_names])
            labels.append(_npz_label(data["label"], path))
            dispositions.append(str(data["label"]))
            stars.append(int(data["star_id"]) if "star_id" in data.files else -1)
            tces.append(str(data["tce_id"]) if "tce_id" in data.files else path.stem)
    views = {}
    for name, arrays in rows.items():
        lengths = {a.shape[0] for a in arrays}
        if len(lengths) > 1:
            raise DatasetError(f"view {name!r} has mixed lengths {sorted(lengths)} in {directory}")
        views[name] = np.stack(arrays)
    return LabelledViews(
        views=views,
        scalars=np.array(scalars, dtype=np.float32).reshape(len(files), len(scalar_names)),
        scalar_names=tuple(scalar_names),
        labels=np.array(labels, dtype=np.float32),
        star_ids=np.array(stars, dtype=np.int64),
        tce_ids=np.array(tces),
        dispositions=np.array(dispositions),
    )


def kfold_by_star(star_ids: np.ndarray, k: int, *, seed: int = 0) -> np.ndarray:
    """Fold (0 .. k-1) of each example, so that all of a star's TCEs share a fold.

    Stars are shuffled with ``seed``; each, largest first (a stable sort of the shuffled order),
    goes to the fold with the fewest examples so far, so the folds differ by at most one star's TCEs.
    """
    star_ids = np.asarray(star_ids)
    stars, inverse, counts = np.unique(star_ids, return_inverse=True, return_counts=True)
    if not 2 <= k <= len(stars):
        raise DatasetError(f"k-fold needs 2 <= k <= number of stars ({len(stars)}), got {k}")
    order = np.random.default_rng(seed).permutation(len(stars))
    order = order[np.argsort(-counts[order], kind="stable")]
    sizes, star_fold = np.zeros(k, np.int64), np.empty(len(stars), np.int64)
    for star in order:
        fold = int(np.argmin(sizes))
        star_fold[star] = fold
        sizes[fold] += counts[star]
    return star_fold[inverse.reshape(-1)]


def split_by_star(
    star_ids: np.ndarray,
    *,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 123,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split example indices into train/validation/test so that no star is in two parts.

    Stars (not TCEs) are shuffled with ``seed`` and assigned in order until each part holds about
    its fraction of the examples. Returns three sorted int arrays of example indices.
    """
    star_ids = np.asarray(star_ids)
    if len(fractions) != 3 or min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
        raise DatasetError(
            f"fractions must be three non-negative numbers summing to 1, got {fractions}"
        )
    stars, counts = np.unique(star_ids, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(stars))
    cumulative = np.cumsum(counts[order]) / max(len(star_ids), 1)
    cut1, cut2 = fractions[0], fractions[0] + fractions[1]
    part = np.where(cumulative <= cut1 + 1e-12, 0, np.where(cumulative <= cut2 + 1e-12, 1, 2))
    star_part = dict(zip(stars[order].tolist(), part.tolist(), strict=True))
    assignment = np.array([star_part[s] for s in star_ids.tolist()], dtype=np.int64)
    return tuple(np.flatnonzero(assignment == k) for k in range(3))  # type: ignore[return-value]
