"""The variational bound of a reverse model, term by term and along whole trajectories (home chapter: The ELBO and the noise loss)."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ._validate import check_generator, check_tensor
from .forward import forward_chain
from .reverse import VARIANCES, NoisePredictor, _check_model, _model_mean, reverse_coefficients
from .schedules import NoiseSchedule, check_schedule

__all__ = ["ElboTerms", "elbo_terms", "elbo_trajectory", "gaussian_kl", "gaussian_log_prob"]


def gaussian_kl(mean_q: torch.Tensor, var_q, mean_p: torch.Tensor, var_p) -> torch.Tensor:
    """KL(N(mean_q, var_q) || N(mean_p, var_p)) per element, 1-D Gaussians (chapter: The ELBO and the noise loss)."""
    var_q, var_p = torch.as_tensor(var_q, dtype=mean_q.dtype), torch.as_tensor(var_p, dtype=mean_q.dtype)
    return 0.5 * (torch.log(var_p / var_q) + (var_q + (mean_q - mean_p) ** 2) / var_p - 1.0)


def gaussian_log_prob(x: torch.Tensor, mean: torch.Tensor, var) -> torch.Tensor:
    """log N(x; mean, var) per element (chapter: The ELBO and the noise loss)."""
    var = torch.as_tensor(var, dtype=x.dtype)
    return -0.5 * (torch.log(2 * math.pi * var) + (x - mean) ** 2 / var)


class ElboTerms(NamedTuple):
    """Per-sample terms of -ELBO = L_T + sum_{t>=2} L_{t-1} + L_0 in nats (chapter: The ELBO and the noise loss)."""

    prior: torch.Tensor  #: L_T = KL(q(x_T | x_0) || N(0, I)), shape (N,)
    steps: torch.Tensor  #: (T+1, N): entry t is the loss of the step x_t -> x_{t-1}; entry 1 is L_0, entry 0 is 0

    def total(self) -> torch.Tensor:
        """-ELBO per sample, an upper bound on -log p_theta(x_0)."""
        return self.prior + self.steps.sum(0)


def _reverse_var(coefs, t: int, variance: str) -> float:
    """sigma_t^2 of the reverse model; at t = 1 the decoder uses beta_1 (beta-tilde_1 = 0 would be a point mass)."""
    if variance == "posterior" and t > 1:
        return float(coefs.posterior_var[t])
    return float(coefs.beta[t])


def _check(model, x0, schedule, generator, variance) -> None:
    check_tensor("x0", x0, min_ndim=2, max_ndim=2)
    check_schedule(schedule, "x0", x0)
    _check_model(model, schedule)
    check_generator(generator, x0)
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")


@torch.no_grad()
def elbo_terms(
    model: NoisePredictor,
    x0: torch.Tensor,
    schedule: NoiseSchedule,
    generator: torch.Generator | None = None,
    variance: str = "beta",
) -> ElboTerms:
    """The bound's terms with each KL in closed form, x_t drawn once per sample from q(x_t | x_0) (chapter: The ELBO and the noise loss).

    The reverse model is p(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2) with mu_theta from ``model``'s noise prediction.
    """
    _check(model, x0, schedule, generator, variance)
    coefs = reverse_coefficients(schedule)
    T, n = schedule.T, x0.shape[0]
    ab_T = schedule.alpha_bars[T].to(x0.dtype)
    prior = gaussian_kl(ab_T.sqrt() * x0, 1.0 - ab_T, torch.zeros_like(x0), 1.0).sum(-1)
    steps = torch.zeros((T + 1, n), dtype=x0.dtype, device=x0.device)
    for t in range(1, T + 1):
        ab = schedule.alpha_bars[t].to(x0.dtype)
        xt = ab.sqrt() * x0 + (1.0 - ab).sqrt() * torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        mean_p = _model_mean(model, xt, t, coefs)
        var_p = _reverse_var(coefs, t, variance)
        if t == 1:
            steps[1] = -gaussian_log_prob(x0, mean_p, var_p).sum(-1)
        else:
            mean_q = float(coefs.coef_x0[t]) * x0 + float(coefs.coef_xt[t]) * xt
            steps[t] = gaussian_kl(mean_q, float(coefs.posterior_var[t]), mean_p, var_p).sum(-1)
    return ElboTerms(prior, steps)


@torch.no_grad()
def elbo_trajectory(
    model: NoisePredictor,
    x0: torch.Tensor,
    schedule: NoiseSchedule,
    generator: torch.Generator | None = None,
    variance: str = "beta",
) -> torch.Tensor:
    """-[log p(x_{0:T}) - log q(x_{1:T} | x_0)] along one forward trajectory per sample: an unbiased, noisier -ELBO.

    Its mean equals ``elbo_terms(...).total()``'s mean (chapter: The ELBO and the noise loss). Returns (N,).
    """
    _check(model, x0, schedule, generator, variance)
    coefs = reverse_coefficients(schedule)
    T = schedule.T
    path = forward_chain(x0, schedule, generator)
    total = -gaussian_log_prob(path[T], torch.zeros_like(x0), 1.0).sum(-1)
    for t in range(1, T + 1):
        beta = float(coefs.beta[t])
        log_q = gaussian_log_prob(path[t], math.sqrt(1.0 - beta) * path[t - 1], beta)
        mean_p = _model_mean(model, path[t], t, coefs)
        log_p = gaussian_log_prob(path[t - 1], mean_p, _reverse_var(coefs, t, variance))
        total += (log_q - log_p).sum(-1)
    return total
