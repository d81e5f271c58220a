"""Deterministic random streams for the data pipeline.

Every random draw of the pipeline comes from a generator built by
:func:`rng_for` out of a tuple of integers such as
``(RNG_SEED, epoch, video index, attempt, purpose, clip)``.  Nothing reads the
global RNGs or worker state, so the same tuple gives the same draw in any
process, in any worker, after a resume.
"""

import numpy as np

_MASK = 2**63 - 1

# Purposes: keep streams for different decisions independent of each other.
TEMPORAL = 1  # clip start times / segment offsets
SPATIAL = 2  # crop, flip, colour (one stream per clip x augmentation)
RETRY = 3  # which other video to try after a failure
PERMUTE = 4  # order of the rho clips in the output
EPOCH_ORDER = 5  # the train sampler's permutation
EXTRA = 6  # RandAugment / random erasing seeds
COMPOSE = 7  # how the training views are composed from the clips (CoCLR's TwoClip / OneClip)


def entropy(*keys: int) -> list:
    """The integers as non-negative words for ``numpy.random.SeedSequence``."""
    return [int(k) & _MASK for k in keys]


def rng_for(*keys: int) -> np.random.Generator:
    """A fresh ``numpy.random.Generator`` that depends only on ``keys`` (ints, any sign)."""
    return np.random.default_rng(np.random.SeedSequence(entropy(*keys)))


def int_seed(*keys: int) -> int:
    """A 32-bit seed that depends only on ``keys`` (for APIs that take an int)."""
    return int(np.random.SeedSequence(entropy(*keys)).generate_state(1)[0])
