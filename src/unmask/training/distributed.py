"""Single-process or ``torchrun`` training: process-group set-up, the shared run folder and a
budget clock all ranks agree on. Gloo on CPU, NCCL on GPU; rank 0 alone writes the run."""

from __future__ import annotations

import os
from collections.abc import Callable

import torch

from unmask.training.common import Budget
from unmask.training.runs import Run


def setup(device: str = "auto") -> tuple[int, int, torch.device, bool]:
    """Rank, world size (``WORLD_SIZE``, 1 without torchrun), the device (``auto``: CUDA when
    present; each rank takes its ``LOCAL_RANK`` GPU) and whether we initialised the group."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    want = device if device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(f"cuda:{local}" if want == "cuda" else want)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
        torch.backends.cudnn.benchmark = True  # fixed crop sizes: pick the fastest kernels once
    started = False
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
        started = True
    rank = dist.get_rank() if dist.is_initialized() else 0
    return rank, world, dev, started


def teardown(started: bool) -> None:
    """Wait for every rank and close the group, when :func:`setup` opened it."""
    if started:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()


def shared_run(hold: Callable[[], Run], rank: int, world: int) -> Run:
    """Rank 0 calls ``hold`` (e.g. :meth:`Run.held`: the given run claimed, or a new one); the
    other ranks learn its folder."""
    run = hold() if rank == 0 else None
    if world > 1:
        import torch.distributed as dist

        box = [str(run.folder) if rank == 0 else None]
        dist.broadcast_object_list(box, src=0)
        if rank != 0:
            run = Run(box[0])
    return run


def agreed_progress(budget: Budget, step: int, world: int, device: torch.device) -> float:
    """Budget progress in [0, 1] agreed by all ranks (the furthest clock counts), so that every
    rank uses the same learning rate and none starts a step the others skip."""
    prog = budget.progress(step)
    if world > 1 and budget.seconds:
        import torch.distributed as dist

        t = torch.tensor([prog], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        prog = float(t.item())
    return prog
