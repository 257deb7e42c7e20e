"""Weights on disk: ``<stage>.json`` (architecture and metadata) with ``<stage>.safetensors``
(PyTorch) and/or ``<stage>.onnx`` (ONNX Runtime, written by ``unmask export``).

Lookup order for a stage: an explicit folder, then ``$UNMASK_HOME/weights``, then the weights
shipped read-only inside the package. Nothing is ever written into the package.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class WeightsInfo:
    """Where a stage's weights are and what they describe.

    Attributes:
        stage: stage name, e.g. ``"attr"``.
        path: the ``.safetensors`` file, or ``None`` when only the ONNX file exists.
        arch: architecture name (a key of :data:`unmask.registry.ARCHITECTURES`).
        args: constructor keyword arguments.
        meta: everything else (training data, metrics, calibration temperature, ...).
        onnx: the ``.onnx`` file, or ``None``.
    """

    stage: str
    path: Path | None
    arch: str
    args: dict
    meta: dict
    onnx: Path | None = None


def shipped_dir() -> Path:
    """The package's read-only weights folder."""
    return Path(str(resources.files("unmask").joinpath("weights")))


def search_dirs(weights_dir: str | Path | None = None) -> list[Path]:
    """Folders searched for weights, in order."""
    dirs = []
    if weights_dir:
        dirs.append(Path(weights_dir))
    home = os.environ.get("UNMASK_HOME")
    if home:
        dirs.append(Path(home) / "weights")
    dirs.append(shipped_dir())
    return dirs


def find(stage: str, weights_dir: str | Path | None = None) -> WeightsInfo:
    """Locate a stage's weights; raises ``FileNotFoundError`` naming the folders searched."""
    for d in search_dirs(weights_dir):
        st, ox, js = (d / f"{stage}{ext}" for ext in (".safetensors", ".onnx", ".json"))
        if js.is_file() and (st.is_file() or ox.is_file()):
            spec = json.loads(js.read_text())
            return WeightsInfo(
                stage,
                st if st.is_file() else None,
                spec["arch"],
                spec.get("args", {}),
                spec.get("meta", {}),
                ox if ox.is_file() else None,
            )
    where = ", ".join(str(d) for d in search_dirs(weights_dir))
    raise FileNotFoundError(f"no weights for stage {stage!r} in: {where}")


def find_here(stage: str, folder: str | Path) -> WeightsInfo:
    """Like :func:`find`, but only ``folder`` itself counts (no fallback to ``$UNMASK_HOME`` or
    the shipped weights) and it must hold ``.safetensors`` weights; else ``FileNotFoundError``."""
    info = find(stage, folder)
    if not is_here(info, folder):
        raise FileNotFoundError(f"no {stage}.safetensors + {stage}.json in {folder}")
    return info


def is_here(info: WeightsInfo, folder: str | Path) -> bool:
    """Whether ``info`` (from :func:`find`) has ``.safetensors`` weights in ``folder`` itself,
    not in a fallback folder."""
    return info.path is not None and info.path.parent.resolve() == Path(folder).resolve()


def build_module(arch: str, args: dict):
    """Instantiate the architecture ``arch`` (see :mod:`unmask.registry`) with ``args``."""
    from unmask import registry

    return registry.resolve(registry.architecture(arch).target)(**args)


#: Key suffix of the per-output-channel scale of a tensor stored as int8 (see :func:`save`).
INT8_SCALE = ".__int8_scale"
#: Smallest weight tensor (values) that ``int8`` / ``fp16`` storage converts.
MIN_ELEMENTS = 1024


def int8_candidate(shape: tuple[int, ...], floating: bool) -> bool:
    """Whether a tensor is stored as int8 under ``int8=True``: float weights of two or more
    dimensions with at least :data:`MIN_ELEMENTS` values (conv and linear weights)."""
    return floating and len(shape) >= 2 and math.prod(shape) >= MIN_ELEMENTS


def quantize_int8(w):
    """Symmetric per-output-channel (axis 0) int8: ``(q, scale)`` with ``w ~ q * scale``
    (numpy arrays: int8 of ``w``'s shape and float32 ``(w.shape[0],)``)."""
    import numpy as np

    w = np.asarray(w, np.float32)
    scale = np.maximum(np.abs(w.reshape(w.shape[0], -1)).max(1), 1e-12) / 127
    shape = (-1,) + (1,) * (w.ndim - 1)
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def load_module(info: WeightsInfo, device: str = "cpu"):
    """Build the module of ``info`` and load its weights (fp16 files are cast to fp32, int8
    tensors multiplied back by their scales)."""
    from safetensors.torch import load_file

    if info.path is None:
        raise FileNotFoundError(f"stage {info.stage!r} has no .safetensors weights")

    model = build_module(info.arch, info.args)
    raw = load_file(info.path)
    state = {}
    for k, v in raw.items():
        if k.endswith(INT8_SCALE):
            continue
        scale = raw.get(k + INT8_SCALE)
        if scale is not None:
            v = v.float() * scale.float().view((-1,) + (1,) * (v.ndim - 1))
        state[k] = v.float() if v.is_floating_point() else v
    model.load_state_dict(state)
    return model.to(device).eval()


def stored_int8(path: str | Path) -> bool:
    """Whether a ``.safetensors`` file holds int8 weights (written with ``int8=True``)."""
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        return any(k.endswith(INT8_SCALE) for k in f.keys())


def save(
    folder: str | Path,
    stage: str,
    model,
    arch: str,
    args: dict,
    meta: dict,
    fp16: bool = False,
    int8: bool = False,
) -> Path:
    """Write ``<stage>.safetensors`` and ``<stage>.json`` into ``folder``.

    With ``fp16`` float tensors are stored as float16; with ``int8`` the conv and linear
    weights (:func:`int8_candidate`) are stored as int8 with a float32 scale per output
    channel under ``<key>`` + :data:`INT8_SCALE` (a quarter of the float32 size; weight-only:
    :func:`load_module` computes in float32). A ``<stage>.onnx`` and its parts
    (``<stage>.<output>.onnx``) left there from earlier weights are removed (they would no
    longer match); ``unmask export`` writes new ones."""
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu()
        if int8 and int8_candidate(tuple(v.shape), v.is_floating_point()):
            q, scale = quantize_int8(v.float().numpy())
            state[k], state[k + INT8_SCALE] = torch.from_numpy(q), torch.from_numpy(scale)
        else:
            state[k] = (v.half() if fp16 and v.is_floating_point() else v).contiguous()
    path = folder / f"{stage}.safetensors"
    save_file(state, str(path))
    path.chmod(0o644)  # safetensors writes 0600; installed weights must be readable by all
    for stale in (folder / f"{stage}.onnx", *folder.glob(f"{stage}.*.onnx")):
        stale.unlink(missing_ok=True)
    spec = {"arch": arch, "args": args, "meta": meta}
    (folder / f"{stage}.json").write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    return path
