"""Training a noise predictor with the simple loss E ||eps - eps_theta(x_t, t)||^2 (home chapter: Training a denoiser)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from ._validate import check_generator, check_int, check_positive, check_tensor
from .reverse import _check_model
from .schedules import NoiseSchedule, check_schedule

__all__ = ["diffusion_loss", "fit", "train_denoiser"]


def diffusion_loss(
    model: nn.Module, x0: torch.Tensor, schedule: NoiseSchedule, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Monte Carlo estimate of the simple loss on a batch x0 (N, d): t ~ U{1..T}, eps ~ N(0, I) (chapter: Training a denoiser)."""
    n = x0.shape[0]
    t = torch.randint(1, schedule.T + 1, (n,), generator=generator, device=x0.device)
    eps = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    alpha_bar = schedule.alpha_bars[t].to(x0.dtype)[:, None]
    xt = alpha_bar.sqrt() * x0 + (1.0 - alpha_bar).sqrt() * eps
    return torch.mean((model(xt, t) - eps) ** 2)


def train_denoiser(
    model: nn.Module,
    data: torch.Tensor,
    schedule: NoiseSchedule,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 2e-3,
    generator: torch.Generator | None = None,
    progress: bool = True,
) -> torch.Tensor:
    """Adam on the simple loss with a cosine-decaying learning rate; returns the loss of every step on the CPU.

    ``data`` is (N, d) on the device of the model and schedule; batches, times and noise are drawn there with
    ``generator``. ``progress`` shows a tqdm bar (chapter: Training a denoiser).
    """
    check_tensor("data", data, min_ndim=2, max_ndim=2)
    check_schedule(schedule, "data", data)
    check_generator(generator, data, "data")
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    lr = check_positive("lr", lr)
    _check_model(model, schedule)
    params = list(model.parameters())
    if params and params[0].device != data.device:
        raise ValueError(f"model is on {params[0].device} but data is on {data.device}; move the model with .to()")

    def batch_loss(k: int) -> torch.Tensor:
        idx = torch.randint(data.shape[0], (batch_size,), generator=generator, device=data.device)
        return diffusion_loss(model, data[idx], schedule, generator)

    return fit(model, batch_loss, steps=steps, lr=lr, progress=progress)


def fit(
    model: nn.Module,
    batch_loss: Callable[[int], torch.Tensor],
    *,
    steps: int,
    lr: float,
    progress: bool = True,
) -> torch.Tensor:
    """The book's one training loop: Adam on ``batch_loss(k)`` (the loss of step k's batch), cosine-decaying lr.

    Returns the loss of every step on the CPU; a non-finite loss raises a ValueError. ``train_denoiser`` and the
    Part IV trainers (conditional denoiser, velocity field) supply the loss (chapter: Training a denoiser).
    """
    steps = check_int("steps", steps, low=1)
    lr = check_positive("lr", lr)
    if not callable(batch_loss):
        raise TypeError(f"batch_loss must be a callable k -> scalar loss tensor, got {type(batch_loss).__name__}")
    params = list(model.parameters())
    if not params:
        raise ValueError("model has no parameters to train")
    optimizer = torch.optim.Adam(params, lr=lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: 0.5 * (1 + math.cos(math.pi * k / steps)))
    losses = torch.empty(steps, device=params[0].device)
    bar = None
    if progress:
        # A widget bar in a notebook (its final state is embedded in the website's pages), a text bar elsewhere.
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="training", unit="step", mininterval=0.5)
    model.train()
    for k in range(steps):
        loss = batch_loss(k)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses[k] = loss.detach()
        if bar is not None:
            bar.update()
            if (k + 1) % 200 == 0 or k + 1 == steps:
                bar.set_postfix(loss=f"{losses[max(0, k - 199) : k + 1].mean().item():.3f}")
    if bar is not None:
        bar.close()
    model.eval()
    losses = losses.cpu()
    if not bool(torch.isfinite(losses).all()):
        raise ValueError("training diverged (non-finite loss); lower lr or scale the data to unit size")
    return losses
