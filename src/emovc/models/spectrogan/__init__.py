"""SpectroGAN: CycleGAN emotion conversion on STFT log-magnitude images (see docs/spectrogan.md)."""

from emovc.models.spectrogan.networks import (
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
    PatchDiscriminator,
    count_parameters,
)
from emovc.models.spectrogan.representation import Normalizer, SpecConfig, analyze

__all__ = [
    "DiscriminatorConfig", "Generator", "GeneratorConfig", "Normalizer", "PatchDiscriminator",
    "SpecConfig", "analyze", "count_parameters",
]
