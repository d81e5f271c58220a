"""A FIFO queue of negative keys kept in two buffers (``queue`` K x D, ``ptr`` LongTensor[1]).

The buffers live on the method (``queue_x`` / ``ptr`` in PySlowFast's
state dict); these functions only read and write them.
"""

import math
from typing import Optional

import torch

from ..errors import InputError


def init_queue(length: int, dim: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """``length x dim`` uniform in ±1/sqrt(dim/3) (PySlowFast's initial queue; not normalised)."""
    stdv = 1.0 / math.sqrt(dim / 3)
    return torch.rand(length, dim, generator=generator).mul_(2 * stdv).add_(-stdv)


@torch.no_grad()
def enqueue_(queue: torch.Tensor, ptr: torch.Tensor, keys: torch.Tensor) -> None:
    """Write ``keys`` (n x D) at ``ptr`` (oldest entries), wrapping around; advance ``ptr``.

    With ``K % n == 0`` (PySlowFast asserts it) this is exactly PySlowFast's
    ``_dequeue_and_enqueue``; other sizes wrap around the end of the queue.
    """
    length, n = queue.shape[0], keys.shape[0]
    if n > length:
        raise InputError(
            f"cannot enqueue {n} keys into a queue of {length} (CONTRASTIVE.QUEUE_LEN); "
            "raise QUEUE_LEN or lower the batch size"
        )
    start = int(ptr[0])
    idx = (start + torch.arange(n, device=queue.device)) % length
    queue[idx] = keys.detach().to(queue.dtype)
    ptr[0] = (start + n) % length
