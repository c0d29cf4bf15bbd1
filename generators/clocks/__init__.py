"""Procedural watch and clock images with exact time labels: see generator.ClockGenerator."""

from .bodies import BODIES, BODY_NAMES
from .config import ClockConfig
from .generator import GENERATOR_VERSION, ClockGenerator, ClockSample
from .timing import ClockTime, sample_time

__all__ = [
    "BODIES",
    "BODY_NAMES",
    "GENERATOR_VERSION",
    "ClockConfig",
    "ClockGenerator",
    "ClockSample",
    "ClockTime",
    "sample_time",
]
