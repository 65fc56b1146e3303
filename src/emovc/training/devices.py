"""The device a Lightning fit trains on: checked before any work, and said in one line.

Lightning resolves ``accelerator="auto"`` to a TPU (XLA), else Apple's GPU (MPS), else a
CUDA GPU that torch sees, else the CPU, and ``"gpu"`` to MPS, else CUDA;
``CUDA_VISIBLE_DEVICES=`` hides CUDA GPUs only, so on an Apple-silicon Mac only
``accelerator="cpu"`` (every trainer's ``--accelerator cpu``) keeps a fit on the CPU. An
unknown accelerator, one the machine lacks, or more devices than it has, fail only when the
``Trainer`` is built — after a trainer's corpus work, with Lightning's multi-line exception:
:func:`check_devices` refuses them first. :func:`device_line` says where a fit trains.
"""

from __future__ import annotations

import lightning as L
from lightning.pytorch.accelerators import CUDAAccelerator, MPSAccelerator, XLAAccelerator

from emovc.errors import ConfigError, choice_error

#: Lightning accelerators a trainer may be given (its ``accelerator`` setting, ``--accelerator``)
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")


def resolve_accelerator(accelerator: str) -> str:
    """The device type Lightning trains on for ``accelerator`` on this machine: ``"tpu"``,
    ``"mps"``, ``"cuda"`` or ``"cpu"`` (``"gpu"``: MPS, else CUDA; an explicit name as
    given)."""
    if accelerator == "auto":
        if XLAAccelerator.is_available():
            return "tpu"
        if MPSAccelerator.is_available():
            return "mps"
        return "cuda" if CUDAAccelerator.is_available() else "cpu"
    if accelerator == "gpu":
        return "mps" if MPSAccelerator.is_available() else "cuda"
    return accelerator


def cpu_choice(cli: bool = True) -> str:
    """How a trainer with an ``accelerator`` setting trains on the CPU, for
    :func:`check_devices` and :func:`device_line`: its command line's option (``cli``) or
    the config field (review 42b L9)."""
    return ("--accelerator cpu trains on the CPU" if cli
            else "accelerator='cpu' trains on the CPU")


def check_devices(accelerator: str, devices: int, name: str = "devices",
                  cpu_hint: str = "") -> str:
    """Refuse, in one line, a fit this machine cannot run; returns the device type
    (:func:`resolve_accelerator`).

    Args:
        accelerator: Lightning's accelerator name, one of :data:`ACCELERATORS`.
        devices: the devices (processes) asked for, at least 1.
        name: what the messages call the device count (``"--devices"``,
            ``"CNN devices"``); ``"devices"`` is replaced by ``"accelerator"`` to name the
            accelerator.
        cpu_hint: how the caller trains on the CPU instead, added to the messages of a fit
            off the CPU (``""``: none; the trainers' :func:`cpu_choice`).

    Raises:
        ConfigError: an accelerator not in :data:`ACCELERATORS`; a CUDA fit where torch sees
            no CUDA GPU, or fewer than ``devices``; an MPS fit where torch sees no Apple GPU,
            or with ``devices`` over 1 (MPS is one device).
    """
    chosen = name.replace("devices", "accelerator")
    if not isinstance(accelerator, str) or accelerator not in ACCELERATORS:
        raise choice_error(chosen, accelerator, ACCELERATORS)
    kind = resolve_accelerator(accelerator)
    hint = f"; {cpu_hint}" if cpu_hint else ""
    chosen = f"{chosen} {accelerator!r}"
    if kind == "cuda":
        have = CUDAAccelerator.auto_device_count() if CUDAAccelerator.is_available() else 0
        if have == 0:
            raise ConfigError(f"{chosen} needs a CUDA GPU, and torch sees none on this machine "
                              f"(a CPU-only torch, or CUDA_VISIBLE_DEVICES hides them){hint}")
        if devices > have:
            raise ConfigError(f"{name} {devices}: the fit trains on CUDA GPUs here, and torch "
                              f"sees {have} on this machine: ask for at most {have}{hint}")
    elif kind == "mps":
        if not MPSAccelerator.is_available():
            raise ConfigError(f"{chosen} needs Apple's GPU (MPS), and torch sees none on this "
                              f"machine{hint}")
        if devices > 1:
            raise ConfigError(f"{name} {devices}: the fit trains on Apple's GPU (mps) here, "
                              f"which is one device: ask for 1{hint}")
    return kind


def check_run_devices(cfg, cli: bool) -> str:
    """:func:`check_devices` of a trainer's run settings ``cfg`` (its ``accelerator`` and
    ``devices``), in the terms of the command line (``cli``: ``--devices``, ``--accelerator
    cpu``) or of the config fields; the one call of every ``emovc train``/``train-voice``
    trainer, before any work."""
    return check_devices(cfg.accelerator, cfg.devices, "--devices" if cli else "devices",
                         cpu_choice(cli))


def device_text(trainer: L.Trainer) -> str:
    """What ``trainer`` trains on: ``"the CPU"``, ``"the CPU (2 processes)"``, ``"the CUDA
    GPU cuda:0"``, ``"2 CUDA GPUs"``, ``"Apple's GPU (mps)"``, or the device type."""
    kind, n = trainer.strategy.root_device.type, trainer.num_devices
    if kind == "cpu":
        return "the CPU" + (f" ({n} processes)" if n > 1 else "")
    if kind == "cuda":
        return f"{n} CUDA GPUs" if n > 1 else f"the CUDA GPU {trainer.strategy.root_device}"
    if kind == "mps":
        return "Apple's GPU (mps)"
    return f"{n} {kind} devices" if n > 1 else f"the {kind} device"


def device_line(trainer: L.Trainer, what: str = "", hint: str = "") -> str:
    """The line that says where ``trainer`` trains (:func:`device_text`): ``"training
    {what} on the CPU"``; off the CPU it adds ``hint``, how to stay on it
    (:func:`cpu_choice`)."""
    where = device_text(trainer)
    what = f"{what} " if what else ""
    if where.startswith("the CPU") or not hint:
        return f"training {what}on {where}"
    return f"training {what}on {where} ({hint})"
