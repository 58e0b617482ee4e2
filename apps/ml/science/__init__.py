"""CNN science for transit candidates, free of Django: arrays in, arrays out.

Modules: ``tfrecord`` (TFRecord/Example reader without TensorFlow), ``datasets`` (Yu 2019 labels,
view folders, split by star), ``models`` (multi-branch 1-D CNN and presets), ``training``,
``evaluation`` (metrics, calibration), ``registry`` (weights + manifest, sha256), ``inference``
(validated batched scoring), ``injection`` (planted transits/EBs, null tests, recall harness),
``workflows`` (train-and-save and evaluate, shared by commands and jobs). Every deliberate error is
a subclass of ``errors.MLScienceError``.
"""
