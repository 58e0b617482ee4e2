"""Inference engines: one model, three ways to run its forward pass, chosen and cached per model.

Why: plain torch runs the 1-D convolutions through oneDNN in PyTorch's (n, C, L) layout, so every
convolution reorders its input and output to oneDNN's blocked layout and back (a fifth of an AstroNet
forward pass), ReLU is a separate pass over memory, and OpenMP threads stall at barriers when other
jobs share the cores. A 1-D convolution is a 2-D one of height 1, and in that form both engines below
keep activations blocked, fuse conv + ReLU and prepack the weights:

* ``onnxruntime``  the network written as an ONNX graph (Conv 1 x k, Relu, MaxPool 1 x k, Gemm) and run
                   by ONNX Runtime (NCHWc kernels, fused conv + ReLU); with several threads a batch
                   is split into concurrent single-threaded parts. Needs ``onnx`` and ``onnxruntime``.
* ``torchscript``  a copy of the model with Conv2d/MaxPool2d of height 1, traced, frozen and optimised
                   for inference (oneDNN). Below ``TORCHSCRIPT_MIN_BATCH`` TCEs it hands over to torch,
                   whose per-op overhead is lower.
* ``torch``        the model itself: the reference, and the only engine for CUDA and bfloat16 autocast.

`engine_for` builds an engine once per model, weights, configuration and thread count, checks its
logits against torch on a probe batch, and with ``engine="auto"`` falls back to the next engine when one
is not installed, cannot express a layer, or disagrees. Engines take the model at each call instead of
holding it, so the per-model cache (a weak mapping) does not keep models alive.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import logging
import warnings
import weakref
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np
import torch
from torch import nn

from .errors import EngineError
from .networks import CandidateClassifier, ModelConfig

log = logging.getLogger(__name__)

ENGINES = ("auto", "onnxruntime", "torchscript", "torch")
AUTO_ORDER = ("onnxruntime", "torchscript", "torch")
PRECISIONS = ("float32", "bfloat16")
# Largest |logit difference| from torch float32 an engine may show on the probe batch (relative to
# max(1, |logit|)); float32 engines differ by ~1e-6 (summation order), a wrong graph by O(1).
PROBE_TOLERANCE = 1e-3
# One TCE runs faster in eager torch than through the traced graph (Yu model: 0.95 vs 1.5 ms CPU);
# from two TCEs on, the traced graph is faster.
TORCHSCRIPT_MIN_BATCH = 2
PROBE_ROWS = 16  # TCEs in the probe batch that checks a new engine against torch
ONNX_OPSET = 17
SPLIT_MIN_ROWS = 32  # smallest part of a batch worth a thread of its own
_INT64_MIN = np.iinfo(np.int64).min


class Engine(Protocol):
    """Runs a model's forward pass on validated float32 arrays; returns float64 logits (n,)."""

    name: str

    def logits(
        self, model: CandidateClassifier, views: Mapping[str, np.ndarray], scalars: np.ndarray
    ) -> np.ndarray: ...


def _autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    if precision == "bfloat16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


class TorchEngine:
    """The model's own forward pass (the reference for the other engines)."""

    name = "torch"

    def __init__(self, device: torch.device, precision: str = "float32") -> None:
        self.device, self.precision = device, precision

    def logits(
        self, model: CandidateClassifier, views: Mapping[str, np.ndarray], scalars: np.ndarray
    ) -> np.ndarray:
        batch = {k: torch.from_numpy(v).to(self.device) for k, v in views.items()}
        with torch.inference_mode(), _autocast(self.device, self.precision):
            out = model(batch, torch.from_numpy(scalars).to(self.device))
        return out.float().cpu().numpy().astype(np.float64)


# --- torchscript: Conv2d of height 1, traced, frozen, oneDNN ------------------------------------


class _AddHeight(nn.Module):
    """(n, C, L) -> (n, C, 1, L), so that 1-D layers can run as 2-D ones."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(2)


def _single(value: int | tuple[int, ...]) -> int:
    return value if isinstance(value, int) else value[0]


def _conv_geometry(layer: nn.Conv1d) -> tuple[int, int, int, int]:
    """(kernel, stride, padding, dilation) of a Conv1d that both fast engines can express."""
    if isinstance(layer.padding, str) or layer.padding_mode != "zeros":
        raise EngineError(f"Conv1d with padding={layer.padding!r}/{layer.padding_mode} unsupported")
    return (
        _single(layer.kernel_size),
        _single(layer.stride),
        _single(layer.padding),
        _single(layer.dilation),
    )


def _pool_geometry(layer: nn.MaxPool1d) -> tuple[int, int]:
    """(kernel, stride) of an unpadded, undilated, floor-mode MaxPool1d (what the presets use)."""
    if (
        _single(layer.padding) != 0
        or _single(layer.dilation) != 1
        or layer.ceil_mode
        or layer.return_indices
    ):
        raise EngineError("only MaxPool1d without padding, dilation or ceil_mode is supported")
    return _single(layer.kernel_size), _single(layer.stride or layer.kernel_size)


def _layer_2d(layer: nn.Module) -> nn.Module:
    """The height-1 2-D twin of a column layer, sharing nothing with the original."""
    if isinstance(layer, nn.Conv1d):
        kernel, stride, padding, dilation = _conv_geometry(layer)
        conv = nn.Conv2d(
            layer.in_channels,
            layer.out_channels,
            (1, kernel),
            stride=(1, stride),
            padding=(0, padding),
            dilation=(1, dilation),
            groups=layer.groups,
            bias=layer.bias is not None,
        )
        with torch.no_grad():
            conv.weight.copy_(layer.weight.unsqueeze(2))
            if layer.bias is not None:
                conv.bias.copy_(layer.bias)
        return conv
    if isinstance(layer, nn.MaxPool1d):
        kernel, stride = _pool_geometry(layer)
        return nn.MaxPool2d((1, kernel), (1, stride))
    if isinstance(layer, nn.ReLU | nn.PReLU | nn.Dropout):
        return copy.deepcopy(layer)  # elementwise (PReLU's weight is per channel, dim 1, in both)
    raise EngineError(f"no 2-D equivalent for column layer {type(layer).__name__}")


def conv2d_equivalent(model: CandidateClassifier) -> CandidateClassifier:
    """A copy of ``model`` whose conv columns run Conv2d/MaxPool2d of height 1 (same outputs).

    `ConvColumn.forward` unsqueezes the view to (n, 1, L) and flattens the result; a leading
    `_AddHeight` makes that (n, 1, 1, L), and flattening (n, C, 1, L) keeps the (C, L) feature order.
    """
    twin = copy.deepcopy(model).float().cpu().eval()
    for member in twin.members:
        for column in member.columns.values():
            column.net = nn.Sequential(_AddHeight(), *(_layer_2d(layer) for layer in column.net))
    return twin


class _Positional(nn.Module):
    """Positional-argument wrapper for tracing: (view_1, ..., view_m, scalars) -> logits."""

    def __init__(self, model: CandidateClassifier, names: list[str]) -> None:
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        return self.model(dict(zip(self.names, tensors[:-1], strict=True)), tensors[-1])


class TorchScriptEngine:
    """The height-1 2-D twin, traced + frozen + `optimize_for_inference` (oneDNN, prepacked)."""

    name = "torchscript"

    def __init__(self, model: CandidateClassifier) -> None:
        if not torch.backends.mkldnn.is_available():
            raise EngineError("this torch build has no oneDNN (mkldnn)")
        self.names = list(model.config.view_lengths())
        views, scalars = probe_inputs(model.config, 2)
        example = (*(torch.from_numpy(views[k]) for k in self.names), torch.from_numpy(scalars))
        wrapper = _Positional(conv2d_equivalent(model), self.names).eval()
        with torch.no_grad(), warnings.catch_warnings():
            # Tracer warnings name the shape tests in forward(); they are constant for one model.
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(wrapper, example, check_trace=False)
            self.module = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
        self.small = TorchEngine(torch.device("cpu"))

    def logits(
        self, model: CandidateClassifier, views: Mapping[str, np.ndarray], scalars: np.ndarray
    ) -> np.ndarray:
        if scalars.shape[0] < TORCHSCRIPT_MIN_BATCH:
            return self.small.logits(model, views, scalars)
        args = [torch.from_numpy(views[k]) for k in self.names] + [torch.from_numpy(scalars)]
        with torch.no_grad():
            return self.module(*args).numpy().astype(np.float64)


# --- onnxruntime: the same network as an ONNX graph ---------------------------------------------


class _OnnxGraph:
    """Collects nodes and weights; every op output gets a fresh name."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, array: np.ndarray | torch.Tensor) -> str:
        if isinstance(array, torch.Tensor):
            array = array.detach().float().cpu().numpy()
        name = self._name("w")
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs: object) -> str:
        name = out or self._name(op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [name], **attrs))
        return name


def _onnx_layer(g: _OnnxGraph, layer: nn.Module, x: str, *, spatial: bool) -> str:
    """One layer of a column (``spatial``: x is (n, C, 1, L)) or of a dense stack (x is (n, H))."""
    if isinstance(layer, nn.Conv1d):
        kernel, stride, padding, dilation = _conv_geometry(layer)
        inputs = [x, g.const(layer.weight.unsqueeze(2))]
        if layer.bias is not None:
            inputs.append(g.const(layer.bias))
        return g.op(
            "Conv",
            *inputs,
            kernel_shape=[1, kernel],
            pads=[0, padding, 0, padding],
            strides=[1, stride],
            dilations=[1, dilation],
            group=layer.groups,
        )
    if isinstance(layer, nn.MaxPool1d):
        kernel, stride = _pool_geometry(layer)
        return g.op("MaxPool", x, kernel_shape=[1, kernel], strides=[1, stride])
    if isinstance(layer, nn.Linear):
        inputs = [x, g.const(layer.weight)]
        if layer.bias is not None:
            inputs.append(g.const(layer.bias))
        return g.op("Gemm", *inputs, transB=1)
    if isinstance(layer, nn.ReLU):
        return g.op("Relu", x)
    if isinstance(layer, nn.PReLU):
        slope = layer.weight.detach().float().cpu()
        if spatial and slope.numel() > 1:
            slope = slope.reshape(-1, 1, 1)  # per channel of (n, C, 1, L)
        return g.op("PRelu", x, g.const(slope))
    if isinstance(layer, nn.Dropout):
        return x
    raise EngineError(f"no ONNX translation for layer {type(layer).__name__}")


def _onnx_member(
    g: _OnnxGraph, member: nn.Module, views2d: Mapping[str, str], z: str | None
) -> str:
    """`MultiBranchCNN.forward` as ONNX: columns, flattened, scalars appended, dense head -> (n, 1)."""
    features = []
    for name in member.view_names:
        x = views2d[name]
        for layer in member.columns[name].net:
            x = _onnx_layer(g, layer, x, spatial=True)
        features.append(g.op("Flatten", x, axis=1))
    if z is not None:
        for layer in getattr(member, "scalar_net", []):
            z = _onnx_layer(g, layer, z, spatial=False)
        features.append(z)
    h = g.op("Concat", *features, axis=1) if len(features) > 1 else features[0]
    for layer in member.head:
        h = _onnx_layer(g, layer, h, spatial=False)
    return h


def onnx_model_bytes(model: CandidateClassifier) -> bytes:
    """The serialised ONNX model of ``model``'s forward pass.

    Inputs: one float32 (n, length) per view, and ``scalars`` (n, k) when the model has scalar
    features, already transformed by `CandidateClassifier.transform_scalars` (cheap, done in torch).
    Output ``logits`` (n,): the ensemble mean, over time-reversed views too when the config says so.
    """
    try:
        g = _OnnxGraph()
    except ImportError as exc:
        raise EngineError("the onnx package is not installed") from exc
    helper, config = g.helper, model.config
    from onnx import TensorProto

    inputs = [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", length])
        for name, length in config.view_lengths().items()
    ]
    z = None
    if config.scalar_names:
        z = "scalars"
        inputs.append(
            helper.make_tensor_value_info(z, TensorProto.FLOAT, ["n", len(config.scalar_names)])
        )
    axes = g.const(np.array([1, 2], np.int64))
    view_sets = [{name: g.op("Unsqueeze", name, axes) for name in config.view_lengths()}]
    if config.test_time_reversal:
        flip = [g.const(np.array([v], np.int64)) for v in (-1, _INT64_MIN, 1, -1)]
        view_sets.append(
            {
                name: g.op("Unsqueeze", g.op("Slice", name, *flip), axes)
                for name in config.view_lengths()
            }
        )
    logits = [_onnx_member(g, m, views, z) for views in view_sets for m in model.members]
    mean = g.op("Mean", *logits) if len(logits) > 1 else logits[0]
    g.op("Squeeze", mean, g.const(np.array([1], np.int64)), out="logits")
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n"])
    graph = helper.make_graph(g.nodes, "candidate_classifier", inputs, [output], g.initializers)
    onnx_model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)], producer_name="gaia-web"
    )
    return onnx_model.SerializeToString()


class OnnxRuntimeEngine:
    """ONNX Runtime on the CPU; with ``threads`` > 1 a batch is split into parts run concurrently.

    Each part runs single-threaded (``session.run`` releases the GIL) rather than every operator
    being split across threads: with the cores shared by other jobs, per-operator thread barriers
    wait for whichever thread was descheduled, and measured here the split batch needed ~10% less
    CPU per TCE and kept a better median rate (docs/benchmarks.md). Batches smaller than
    ``SPLIT_MIN_ROWS`` per part run in the calling thread.
    """

    name = "onnxruntime"

    def __init__(self, model: CandidateClassifier, threads: int) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EngineError("the onnxruntime package is not installed") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            onnx_model_bytes(model), options, providers=["CPUExecutionProvider"]
        )
        self.names = list(model.config.view_lengths())
        self.has_scalars = bool(model.config.scalar_names)
        self.threads = max(1, threads)
        # The calling thread runs one part itself, so the pool needs one thread fewer.
        self._pool = ThreadPoolExecutor(self.threads - 1) if self.threads > 1 else None

    def _run(self, feeds: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.session.run(None, dict(feeds))[0].astype(np.float64)

    def logits(
        self, model: CandidateClassifier, views: Mapping[str, np.ndarray], scalars: np.ndarray
    ) -> np.ndarray:
        feeds = {k: views[k] for k in self.names}
        if self.has_scalars:
            with torch.inference_mode():
                z = model.transform_scalars(torch.from_numpy(scalars).to(model.scalar_scale.device))
            feeds["scalars"] = z.float().cpu().numpy()
        n = scalars.shape[0]
        parts = min(self.threads, n // SPLIT_MIN_ROWS)
        if parts <= 1 or self._pool is None:
            return self._run(feeds)
        edges = np.linspace(0, n, parts + 1).astype(int)
        chunks = [
            {k: v[a:b] for k, v in feeds.items()}
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
        others = [self._pool.submit(self._run, chunk) for chunk in chunks[1:]]
        return np.concatenate([self._run(chunks[0]), *(f.result() for f in others)])


# --- choosing, checking and caching -------------------------------------------------------------


def onnxruntime_available() -> bool:
    """Whether the optional packages of the onnxruntime engine are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


def probe_inputs(config: ModelConfig, n: int, seed: int = 20181) -> tuple[dict, np.ndarray]:
    """Deterministic random views (n, length) and positive scalars (n, k) for equivalence checks."""
    rng = np.random.default_rng(seed)
    views = {
        name: rng.normal(size=(n, length)).astype(np.float32)
        for name, length in config.view_lengths().items()
    }
    scalars = np.exp(rng.normal(size=(n, len(config.scalar_names)))).astype(np.float32)
    return views, scalars


def _probe(engine: Engine, model: CandidateClassifier, n: int) -> tuple[float, float]:
    """(max |logit(engine) - logit(torch float32)|, max |logit(torch)|) on a probe batch."""
    views, scalars = probe_inputs(model.config, n)
    reference = TorchEngine(model.scalar_scale.device).logits(model, views, scalars)
    diff = np.max(np.abs(engine.logits(model, views, scalars) - reference))
    return float(diff), float(np.max(np.abs(reference)))


def max_logit_difference(engine: Engine, model: CandidateClassifier, n: int = 32) -> float:
    """max |logit(engine) - logit(torch float32)| on a probe batch of ``n`` TCEs."""
    return _probe(engine, model, n)[0]


def _build(name: str, model: CandidateClassifier, device: torch.device, precision: str) -> Engine:
    """Engine ``name`` for ``model``; a fast engine must match torch on a probe batch first."""
    if name == "torch":
        return TorchEngine(device, precision)
    if device.type != "cpu" or precision != "float32":
        raise EngineError(f"{name} runs float32 on the CPU only (asked: {precision} on {device})")
    if name == "onnxruntime":
        built: Engine = OnnxRuntimeEngine(model, torch.get_num_threads())
    else:
        built = TorchScriptEngine(model)
    diff, scale = _probe(built, model, PROBE_ROWS)
    if not diff <= PROBE_TOLERANCE * max(1.0, scale):
        raise EngineError(f"{name} logits differ from torch by {diff:.3g} on a probe batch")
    return built


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CACHE_PER_MODEL = 8


def _tensors(model: nn.Module) -> Iterator[torch.Tensor]:
    """Parameters and buffers of every submodule; a plain walk, 4x cheaper than parameters()."""
    stack = [model]
    while stack:
        module = stack.pop()
        yield from (t for t in module._parameters.values() if t is not None)
        yield from (t for t in module._buffers.values() if t is not None)
        stack.extend(m for m in module._modules.values() if m is not None)


def _cache_key(
    name: str, model: CandidateClassifier, device: torch.device, precision: str
) -> tuple:
    # Tensor versions change with every in-place update (optimizer steps, load_state_dict), so a
    # cached engine never serves stale weights; the config covers test_time_reversal toggles.
    weights = tuple((t.data_ptr(), t._version) for t in _tensors(model))
    return (name, precision, str(device), torch.get_num_threads(), repr(model.config), weights)


def engine_for(
    model: CandidateClassifier,
    *,
    engine: str = "auto",
    precision: str = "float32",
    device: torch.device | None = None,
) -> Engine:
    """The engine that scores with ``model``, built on first use and cached with the model.

    ``engine="auto"`` tries onnxruntime, then torchscript, then torch, and logs why an engine was
    skipped; naming an engine raises `EngineError` when it cannot run this model here.
    """
    if engine not in ENGINES:
        raise EngineError(f"engine must be one of {ENGINES}, not {engine!r}")
    device = device or model.scalar_scale.device
    per_model = _CACHE.setdefault(model, {})
    for name in AUTO_ORDER if engine == "auto" else (engine,):
        key = _cache_key(name, model, device, precision)
        if key not in per_model:
            if len(per_model) >= _CACHE_PER_MODEL:
                per_model.clear()
            try:
                per_model[key] = _build(name, model, device, precision)
            except Exception as exc:  # an optional engine failing to build means "not this one"
                per_model[key] = exc if isinstance(exc, EngineError) else EngineError(repr(exc))
                if engine == "auto":
                    log.info("inference engine %s skipped: %s", name, per_model[key])
        found = per_model[key]
        if not isinstance(found, EngineError):
            return found
        if engine != "auto":
            raise EngineError(str(found))
    raise EngineError("no inference engine could run this model")  # torch always builds
