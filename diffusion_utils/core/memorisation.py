"""Nearest-training-point distances and small denoisers trained on a given point cloud (home chapter: Memorisation).

A sample "copies" its training set when it lies closer to a training point than a radius; :func:`nearest_distance`
measures this exactly (a chunked brute-force search, no index structure), and :func:`memorised_fraction` counts it.
:func:`train_on_points` trains the book's MLP noise predictor on any point cloud with a chosen width, depth and
number of Adam steps, so that a chapter can turn the two dials of memorisation: the size of the training set and the
capacity (or training time) of the network.
"""

from __future__ import annotations

import copy
import hashlib

import torch

from ._validate import check_int, check_positive, check_same_device, check_tensor, is_concrete
from .data import DataScaler
from .models import Denoiser
from .recipes import TrainedModel, _cached
from .schedules import NoiseSchedule
from .training import train_denoiser

__all__ = ["memorised_fraction", "nearest_distance", "train_on_points"]

# Elements of one (chunk, K) block of distances: 2**22 float64 values are 32 MB.
_BLOCK_ELEMENTS = 2**22


def _check_clouds(x: object, train: object) -> tuple[torch.Tensor, torch.Tensor]:
    """x (N, d) and train (K, d) on one device, same d, K >= 1."""
    x = check_tensor("x", x, min_ndim=2, max_ndim=2)
    train = check_tensor("train", train, min_ndim=2, max_ndim=2)
    check_same_device("train", train, "x", x)
    if train.shape[1] != x.shape[1]:
        raise ValueError(
            f"x and train must have the same dimension d, got x {tuple(x.shape)} and train {tuple(train.shape)}"
        )
    if train.shape[0] == 0:
        raise ValueError("train must hold at least one point")
    return x, train


def nearest_distance(x: torch.Tensor, train: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean distance from each row of x (N, d) to its nearest row of train (K, d), and that row's index.

    Returns ``(distance, index)``, both (N,): distances in float64 (computed from exact differences, not from the
    |a|^2 + |b|^2 - 2ab expansion, so a sample on a training point gives 0, not rounding noise), on x's device.
    Works through x in chunks of at most 2**22 distances (chapter: Memorisation).
    """
    x, train = _check_clouds(x, train)
    a, b = x.to(torch.float64), train.to(torch.float64)
    step = max(1, _BLOCK_ELEMENTS // max(1, train.shape[0] * train.shape[1]))
    dist, index = [], []
    for n in range(0, a.shape[0], step):
        sq = ((a[n : n + step, None, :] - b[None]) ** 2).sum(-1)
        best = sq.min(dim=1)
        dist.append(best.values.sqrt())
        index.append(best.indices)
    if not dist:
        return a.new_zeros(0), torch.zeros(0, dtype=torch.long, device=x.device)
    return torch.cat(dist), torch.cat(index)


def memorised_fraction(x: torch.Tensor, train: torch.Tensor, radius: float) -> torch.Tensor:
    """Fraction of the rows of x (N, d) that lie within ``radius`` (> 0) of some row of train (K, d), a 0-d tensor.

    Chapter: Memorisation. The comparison is ``distance <= radius``; x must hold at least one row.
    """
    radius = check_positive("radius", radius)
    x, train = _check_clouds(x, train)
    if x.shape[0] == 0:
        raise ValueError("x must hold at least one sample")
    dist, _ = nearest_distance(x, train)
    return (dist <= radius).to(torch.float64).mean()


def train_on_points(
    data: torch.Tensor,
    *,
    steps: int,
    hidden: int = 128,
    depth: int = 3,
    lr: float = 1e-2,
    batch_size: int = 256,
    seed: int = 0,
    start: TrainedModel | None = None,
    progress: bool = False,
    cache: bool = True,
) -> TrainedModel:
    """Train the book's MLP noise predictor (``hidden`` x ``depth``) on ``data`` (N, d) for ``steps`` Adam steps.

    Chapter: Memorisation. Same recipe as :func:`~diffusion_utils.core.recipes.train_two_moons` (standardised data,
    linear schedule T = 1000, Adam with a cosine decay from ``lr``), on data's device, seeded by ``seed``. With
    ``start`` (a result of this function on the same data) a copy of that network trains ``steps`` more steps with a
    fresh optimiser and decay (a warm restart); ``start`` itself is left unchanged and the losses are appended.
    With ``cache`` (default) the result is kept in the trained-model cache of :mod:`~diffusion_utils.core.recipes`,
    keyed by the data's bytes, every argument and (for a warm restart) the starting network's weights and losses.
    """
    data = check_tensor("data", data, min_ndim=2, max_ndim=2)
    if data.shape[0] < 2:
        raise ValueError(f"data must hold at least two points, got shape {tuple(data.shape)}")
    steps = check_int("steps", steps, low=1)
    hidden = check_int("hidden", hidden, low=1)
    depth = check_int("depth", depth, low=1)
    seed = check_int("seed", seed, low=0, high=2**63 - 2)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    if start is None:
        schedule = NoiseSchedule.linear(1000, device=data.device)
        scaler = DataScaler.fit(data)
        model = Denoiser(data.shape[1], schedule.T, hidden=hidden, depth=depth,
                         generator=torch.Generator().manual_seed(seed), device=data.device)
        previous = torch.zeros(0)
    else:
        if not isinstance(start, TrainedModel):
            raise TypeError(f"start must be a TrainedModel from train_on_points or None, got {type(start).__name__}")
        if start.data.shape != data.shape or start.data.device != data.device or (
            is_concrete(data) and not torch.equal(start.data, data)
        ):
            raise ValueError("start was trained on other data; pass the same data tensor to keep training it")
        schedule, scaler, previous = start.schedule, start.scaler, start.losses
        model = copy.deepcopy(start.model)
    generator = torch.Generator(device=data.device).manual_seed(seed + 1 + previous.numel())

    def train() -> TrainedModel:
        losses = train_denoiser(model, scaler.encode(data), schedule, steps=steps, lr=lr, batch_size=batch_size,
                                generator=generator, progress=progress)
        return TrainedModel(model, schedule, scaler, data, torch.cat([previous, losses]))

    if not is_concrete(data):
        return train()
    args = {"data": _digest(data), "steps": steps, "hidden": hidden, "depth": depth, "lr": float(lr),
            "batch_size": int(batch_size), "seed": seed,
            "start": None if start is None else _digest(*start.model.state_dict().values(), start.losses)}
    trained = _cached("train_on_points", args, data.device, train,
                      model_args={"dim": data.shape[1], "T": schedule.T, "hidden": hidden, "depth": depth},
                      seed=seed, cache=cache, progress=progress)
    # From the cache or not: the caller's data, and the schedule and scaler of ``start`` (or this call's).
    return TrainedModel(trained.model, schedule, scaler, data, trained.losses)


def _digest(*tensors: torch.Tensor) -> str:
    """SHA-256 of the tensors' shapes and float64 values (the cache key of a dataset or of a network's weights)."""
    h = hashlib.sha256()
    for x in tensors:
        h.update(repr(tuple(x.shape)).encode() + x.detach().to("cpu", torch.float64).contiguous().numpy().tobytes())
    return h.hexdigest()
