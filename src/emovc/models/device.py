"""Choosing the torch device an inference model runs on.

``"auto"`` is the first CUDA GPU when torch sees one, else the CPU; ``"cpu"``, ``"cuda"``
(the current CUDA GPU) and ``"cuda:N"`` (GPU number ``N``) choose explicitly.
"""

from __future__ import annotations

import re

import torch

from emovc.errors import ConfigError

#: the device names :func:`resolve_device` accepts (``N``: a GPU index, 0 for the first)
DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:N")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The ``torch.device`` that ``device`` names (:data:`DEVICE_CHOICES`).

    Raises:
        ConfigError: not a string, an unknown name, a CUDA device when torch sees no CUDA
            GPU, or a GPU index that does not exist (one line naming the valid choices).
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise ConfigError(f"device must be a string ({', '.join(DEVICE_CHOICES)}), "
                          f"got {type(device).__name__}")
    name = device.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    match = re.fullmatch(r"cuda(?::(\d+))?", name)
    if match is None:
        raise ConfigError(f"unknown device {device!r}; valid choices: "
                          f"{', '.join(DEVICE_CHOICES)} (N: a GPU index, 0 for the first)")
    if not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} needs a CUDA GPU, but torch finds none (no GPU, "
                          "or a CPU-only torch build); valid choices here: auto, cpu")
    count = torch.cuda.device_count()
    if match.group(1) is not None and int(match.group(1)) >= count:
        gpus = ", ".join(f"cuda:{i}" for i in range(count))
        raise ConfigError(f"device {device!r} does not exist: torch finds {count} CUDA "
                          f"GPU{'s' if count != 1 else ''}; valid choices here: auto, cpu, "
                          f"cuda, {gpus}")
    return torch.device(name)
