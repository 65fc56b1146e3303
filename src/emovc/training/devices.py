"""The device a Lightning fit trains on, said in one line.

Lightning resolves ``accelerator="auto"`` to a TPU (XLA), else Apple's GPU (MPS), else a
CUDA GPU that torch sees, else the CPU, and ``"gpu"`` to MPS, else CUDA;
``CUDA_VISIBLE_DEVICES=`` hides CUDA GPUs only, so on an Apple-silicon Mac only
``accelerator="cpu"`` keeps a fit on the CPU.
"""

from __future__ import annotations

import lightning as L


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
