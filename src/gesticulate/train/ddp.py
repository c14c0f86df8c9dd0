"""Multi-process training with ``torchrun`` (DistributedDataParallel).

``torchrun --nproc_per_node N -m gesticulate train ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; :func:`setup` joins the process group (NCCL on GPUs, gloo on CPU), each rank
trains on ``batch_size / N`` samples of its own and DDP averages the gradients, which equals
the gradient of the whole batch because the loss is a mean over samples
(:func:`gesticulate.train.objective.diffusion_loss`). Only rank 0 writes checkpoints and logs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    """Where this process sits: ``rank`` of ``world_size``, and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def pick_device(device: str | None, local_rank: int = 0) -> torch.device:
    """``device`` as given, else this rank's CUDA device when there is one, else CPU."""
    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def setup(device: str | None = None) -> DistInfo:
    """Join the process group when launched by torchrun (``WORLD_SIZE`` > 1); else one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device, local)
    if world > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", rank=rank, world_size=world)
    return DistInfo(rank, world, local, dev)


def wrap(model: torch.nn.Module, info: DistInfo) -> torch.nn.Module:
    """``model`` wrapped in DDP when there are several processes, else unchanged."""
    if info.world_size == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [info.device.index] if info.device.type == "cuda" else None
    return DDP(model, device_ids=ids)


def barrier(info: DistInfo) -> None:
    if info.world_size > 1:
        dist.barrier()


def all_reduce_mean(x: float, info: DistInfo) -> float:
    """Mean of a float over ranks (for logging the loss)."""
    if info.world_size == 1:
        return x
    t = torch.tensor([x], dtype=torch.float64, device=info.device)
    dist.all_reduce(t)
    return float(t.item()) / info.world_size


def teardown(info: DistInfo, *, synchronize: bool = True) -> None:
    """Leave the process group. After a normal end the ranks first meet at a barrier: a rank
    that destroyed the group while its peer's gloo threads still talked to it aborted that
    peer now and then ("terminate called without an active exception", SIGABRT in the DDP
    test on a clean clone). After an error there is no barrier (a peer may be gone)."""
    if info.world_size > 1 and dist.is_initialized():
        if synchronize:
            dist.barrier()
        dist.destroy_process_group()
