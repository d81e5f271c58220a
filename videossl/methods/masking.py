"""Token masking for masked video modelling (MAE-ST random, VideoMAE tube, per-frame).

A mask is a ``B x N`` bool tensor over the (t, h, w)-ordered token grid,
True = masked (hidden from the encoder, reconstructed by the decoder).  Every
sample of a batch masks the same number of tokens, so the visible tokens form
a dense ``B x K x D`` tensor.

* ``random`` (MAE-ST, ``MASK.MAE_RND_MASK``): keep ``int(N * (1 - ratio))``
  tokens chosen uniformly over all t*h*w positions (argsort of noise);
* ``tube`` (VideoMAE, ``AUG.MASK_TUBE``): one spatial mask of
  ``int(ratio * h*w)`` patches, repeated over all t time slices;
* ``frame`` (``MASK.PER_FRAME_MASKING``): each time slice keeps
  ``int(h*w * (1 - ratio))`` tokens, independently.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import torch

from ..errors import InputError

MASK_TYPES = ("random", "tube", "frame")


@dataclass
class MaskIndices:
    """Index views of a ``B x N`` mask (all sorted ascending within a sample).

    ``ids_keep`` B x K visible token ids, ``ids_masked`` B x M masked ids,
    ``ids_restore`` B x N: position of each token in ``cat(ids_keep, ids_masked)``,
    so ``gather(cat(visible, masked), ids_restore)`` is in grid order.
    """

    mask: torch.Tensor
    ids_keep: torch.Tensor
    ids_masked: torch.Tensor
    ids_restore: torch.Tensor


def _keep_smallest(noise: torch.Tensor, keep: int) -> torch.Tensor:
    """Bool mask (True = masked) hiding all but the ``keep`` smallest entries of each row."""
    order = torch.argsort(noise, dim=-1)
    mask = torch.ones_like(noise, dtype=torch.bool)
    mask.scatter_(-1, order[..., :keep], False)
    return mask


def generate_mask(batch_size: int, grid: Tuple[int, int, int], ratio: float, mask_type: str = "random",
                  device=None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """A ``batch_size x t*h*w`` bool mask (True = masked) of the given type and ratio."""
    if mask_type not in MASK_TYPES:
        raise InputError(f"mask_type={mask_type!r} is not one of {MASK_TYPES}")
    if not 0.0 <= ratio < 1.0:
        raise InputError(f"mask ratio {ratio} must lie in [0, 1)")
    t, h, w = grid
    n, hw = t * h * w, h * w
    gen_device = generator.device if generator is not None else device

    def noise(*shape):
        return torch.rand(*shape, generator=generator, device=gen_device)

    if mask_type == "random":
        keep = int(n * (1 - ratio))
        mask = _keep_smallest(noise(batch_size, n), keep)
    elif mask_type == "tube":
        keep = hw - int(ratio * hw)
        mask = _keep_smallest(noise(batch_size, 1, hw), keep).expand(batch_size, t, hw).reshape(batch_size, n)
    else:
        keep = int(hw * (1 - ratio))
        mask = _keep_smallest(noise(batch_size, t, hw), keep).reshape(batch_size, n)
    if keep < 1:
        raise InputError(f"mask ratio {ratio} leaves no visible token on grid {grid}")
    return mask.to(device) if device is not None else mask


def mask_indices(mask: torch.Tensor) -> MaskIndices:
    """Index views of a ``B x N`` bool mask with the same count of masked tokens per row."""
    b, n = mask.shape
    num_masked = mask.sum(1)
    if not bool((num_masked == num_masked[0]).all()):
        raise InputError("every sample must mask the same number of tokens")
    m = int(num_masked[0])
    # A stable sort of the mask puts visible ids (False) first, each part ascending.
    order = torch.sort(mask.to(torch.uint8), dim=1, stable=True).indices
    ids_keep, ids_masked = order[:, : n - m], order[:, n - m:]
    ids_restore = torch.argsort(order, dim=1)
    return MaskIndices(mask=mask, ids_keep=ids_keep, ids_masked=ids_masked, ids_restore=ids_restore)


class MaskGenerator:
    """Callable ``(batch_size, grid, device) -> B x N`` bool mask with a fixed type and ratio."""

    def __init__(self, ratio: float, mask_type: str = "random"):
        if mask_type not in MASK_TYPES:
            raise InputError(f"mask_type={mask_type!r} is not one of {MASK_TYPES}")
        self.ratio = ratio
        self.mask_type = mask_type

    def __call__(self, batch_size: int, grid, device=None, generator=None) -> torch.Tensor:
        return generate_mask(batch_size, grid, self.ratio, self.mask_type, device, generator)

    def __repr__(self):
        return f"MaskGenerator(type={self.mask_type}, ratio={self.ratio})"


def build_mask_generator(cfg) -> MaskGenerator:
    """From AUG.MASK_RATIO, AUG.MASK_TUBE, MASK.PER_FRAME_MASKING (random otherwise)."""
    if cfg.AUG.MASK_TUBE and cfg.MASK.PER_FRAME_MASKING:
        raise InputError("AUG.MASK_TUBE and MASK.PER_FRAME_MASKING are exclusive")
    mask_type = "tube" if cfg.AUG.MASK_TUBE else "frame" if cfg.MASK.PER_FRAME_MASKING else "random"
    return MaskGenerator(cfg.AUG.MASK_RATIO, mask_type)
