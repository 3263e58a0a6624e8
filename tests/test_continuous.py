"""The probability-flow ODE, ODE likelihoods and DDIM as its Euler method (chapter: Continuous time)."""

import itertools
import math

import pytest
import torch

import diffusion_utils as du

SCHEDULE = du.NoiseSchedule.linear(1000, dtype=torch.float64)
AB = du.alpha_bars64(SCHEDULE)
RAW = torch.tensor(du.DATASET, dtype=torch.float64)[:, None]
POINTS = (RAW - RAW.mean()) / RAW.std(unbiased=False)  # the chapter's standardised dataset, (4, 1)
CLOUD = torch.tensor([[-1.0, 0.5], [0.3, -1.2], [1.1, 0.9], [0.0, 0.1], [-0.6, -0.7]], dtype=torch.float64)


def score_of(data):
    return lambda x, ab: du.mixture_score(x, data, ab)


def q_sample(data, ab, n, gen):
    pick = data[torch.randint(len(data), (n,), generator=gen)]
    return math.sqrt(ab) * pick + math.sqrt(1 - ab) * torch.randn(n, data.shape[1], generator=gen, dtype=data.dtype)


def test_logsnr_grid_is_uniform_in_half_log_snr_with_exact_ends():
    grid = du.logsnr_grid(0.99, 1e-4, 50)
    assert grid.dtype == torch.float64 and grid.shape == (51,)
    assert grid[0].item() == 0.99 and grid[-1].item() == 1e-4
    lam = 0.5 * (torch.log(grid) - torch.log1p(-grid))
    assert torch.allclose(torch.diff(lam), torch.full((50,), (lam[-1] - lam[0]).item() / 50, dtype=torch.float64),
                          rtol=1e-9)
    up = du.logsnr_grid(1e-4, 0.99, 50)
    assert torch.allclose(up, grid.flip(0), rtol=1e-12)


@pytest.mark.parametrize(("data", "ab_start", "steps", "tol"),
                         [(POINTS, AB[10].item(), 300, 1e-5), (CLOUD, 0.95, 200, 1e-5)], ids=["1d-t10", "2d"])
def test_ode_log_likelihood_matches_the_closed_form(data, ab_start, steps, tol):
    """Exact score, exact q_T, float64, RK4 steps equally spaced in lambda: log q at draws of q within ``tol``."""
    gen = torch.Generator().manual_seed(0)
    x = q_sample(data, ab_start, 100, gen)
    ab_end = AB[1000].item()
    grid = du.logsnr_grid(ab_start, ab_end, steps)
    res = du.ode_log_likelihood(score_of(data), x, grid, prior=lambda z: du.mixture_log_density(z, data, ab_end))
    truth = du.mixture_log_density(x, data, ab_start)
    assert (res.log_density - truth).abs().max() < tol
    assert torch.equal(res.log_density, res.prior_log_density + res.delta)
    assert res.nfe == 4 * steps and res.x_end.shape == x.shape and res.log_density.dtype == torch.float64
    # the default prior is N(0, I): close to q_T here, but not equal
    default = du.ode_log_likelihood(score_of(data), x[:10], grid)
    gap = (default.log_density - res.log_density[:10]).abs().max()
    assert 0 < gap < 1e-2


def test_heun_and_rk4_agree_and_rk4_converges_faster():
    gen = torch.Generator().manual_seed(1)
    x = q_sample(POINTS, AB[50].item(), 100, gen)
    truth = du.mixture_log_density(x, POINTS, AB[50].item())
    prior = lambda z: du.mixture_log_density(z, POINTS, AB[1000].item())
    grid = du.logsnr_grid(AB[50].item(), AB[1000].item(), 100)
    err = {m: (du.ode_log_likelihood(score_of(POINTS), x, grid, prior=prior, method=m).log_density - truth).abs().max()
           for m in ("rk4", "heun")}
    assert err["rk4"] < 1e-4 < err["heun"] < 0.1


def test_probability_flow_carries_q_T_to_q_t():
    """W1 between ODE particles and fresh exact draws stays within three times the two-sample floor."""
    gen = torch.Generator().manual_seed(2)
    n = 4000
    x = q_sample(POINTS, AB[1000].item(), n, gen)
    for t_from, t_to in ((1000, 300), (300, 30)):
        x = du.probability_flow(score_of(POINTS), x, du.logsnr_grid(AB[t_from].item(), AB[t_to].item(), 60))
        w_ode = du.wasserstein_1d(x[:, 0], q_sample(POINTS, AB[t_to].item(), n, gen)[:, 0])
        floor = torch.stack([du.wasserstein_1d(q_sample(POINTS, AB[t_to].item(), n, gen)[:, 0],
                                               q_sample(POINTS, AB[t_to].item(), n, gen)[:, 0]) for _ in range(5)])
        assert w_ode < 3 * floor.mean()


def test_probability_flow_runs_both_ways_and_keeps_the_order_in_1d():
    gen = torch.Generator().manual_seed(3)
    x0 = q_sample(POINTS, AB[20].item(), 500, gen)
    grid = du.logsnr_grid(AB[20].item(), AB[1000].item(), 200)
    path = du.probability_flow(score_of(POINTS), x0, grid, trajectory=True)
    assert path.shape == (201, 500, 1) and torch.equal(path[0], x0)
    order = torch.argsort(path[:, :, 0], dim=1)
    assert (order == order[0]).all()
    back = du.probability_flow(score_of(POINTS), path[-1], grid.flip(0))
    assert (back - x0).abs().max() < 1e-6


def test_ddim_is_euler_in_y_gamma_and_eta_one_is_ddpm():
    eps_model = du.ExactDenoiser(POINTS, SCHEDULE)
    gen = torch.Generator().manual_seed(4)
    xT = torch.randn(300, 1, generator=gen, dtype=torch.float64)
    ddim = du.sample(eps_model, SCHEDULE, xT, method="ddim", steps=8, trajectory=True).samples
    times = du.time_grid(SCHEDULE, 8).tolist()
    gamma = ((1 - AB) / AB).sqrt()
    y = xT / AB[1000].sqrt()
    for k, (t, s) in enumerate(itertools.pairwise(times)):
        y = y + (gamma[s] - gamma[t]) * eps_model(AB[t].sqrt() * y, torch.full((300,), t))
        torch.testing.assert_close(AB[s].sqrt() * y, ddim[k + 1], rtol=1e-10, atol=1e-10)
    runs = [du.sample(eps_model, SCHEDULE, xT, method=m, eta=e, steps=50,
                      generator=torch.Generator().manual_seed(5)).samples for m, e in (("ddim", 1.0), ("ddpm", 0.0))]
    assert (runs[0] - runs[1]).abs().max() < 1e-10
    half = du.sample(eps_model, SCHEDULE, xT, method="ddim", eta=0.5, steps=50,
                     generator=torch.Generator().manual_seed(5)).samples
    assert (half - runs[0]).abs().max() > 1e-3  # eta matters


def test_ddim_round_trip_error_falls_with_steps():
    eps_model = du.ExactDenoiser(POINTS, SCHEDULE)
    xT = torch.randn(300, 1, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    errors = []
    for steps in (10, 50, 250):
        path = du.sample(eps_model, SCHEDULE, xT, method="ddim", steps=steps, trajectory=True).samples
        back = du.ddim_invert(eps_model, SCHEDULE, path[-2], steps=steps)
        assert back.nfe == steps - 1
        errors.append((back.samples - xT).abs().mean().item())
    assert errors[0] > errors[1] > errors[2]
    assert 3 < errors[1] / errors[2] < 7  # first order: 5x the steps, about 1/5 the error


def test_model_score_is_minus_eps_over_sigma_at_training_times():
    eps_model = du.ExactDenoiser(POINTS, SCHEDULE)
    score = du.model_score(eps_model, SCHEDULE)
    x = torch.linspace(-2, 2, 41, dtype=torch.float64)[:, None]
    for t in (1, 10, 500, 1000):
        torch.testing.assert_close(score(x, AB[t].item()), du.mixture_score(x, POINTS, AB[t].item()),
                                   rtol=1e-9, atol=1e-9)
    # between training times the model gets a fractional t (a Denoiser's embedding accepts it)
    seen = []
    net = du.Denoiser(1, 1000, generator=torch.Generator().manual_seed(0))
    du.model_score(lambda x, t: (seen.append(t), net(x, t))[1], SCHEDULE)(x.float(), math.sqrt(AB[10] * AB[11]))
    assert seen[0].dtype == torch.float64 and 10 < seen[0][0].item() < 11
    # the network's divergence by autograd gives a finite log-likelihood in float64
    res = du.ode_log_likelihood(du.model_score(net, SCHEDULE), x[:5], AB[10:1001:10], method="heun")
    assert res.log_density.dtype == torch.float64 and bool(torch.isfinite(res.log_density).all())


BAD = [
    (lambda: du.logsnr_grid(1.0, 0.5, 10), ValueError, "alpha_bar_from must lie in the open interval"),
    (lambda: du.logsnr_grid(0.5, "x", 10), TypeError, "alpha_bar_to must be a real number"),
    (lambda: du.logsnr_grid(0.5, 0.1, 0), ValueError, "steps must be an int >= 1"),
    (lambda: du.logsnr_grid(0.5, 0.5, 3), ValueError, "must differ"),
    (lambda: du.probability_flow(score_of(POINTS), torch.zeros(3, 1), [0.5]), ValueError, "at least two"),
    (lambda: du.probability_flow(score_of(POINTS), torch.zeros(3, 1), [0.5, 0.7, 0.6]), ValueError,
     "alpha_bars must be strictly monotone"),
    (lambda: du.probability_flow(score_of(POINTS), torch.zeros(3, 1), [0.5, 1.0]), ValueError,
     r"alpha_bars\[k\] must lie in the open interval"),
    (lambda: du.probability_flow(score_of(POINTS), torch.zeros(3, 1), torch.tensor([[0.5, 0.4]])), TypeError,
     "alpha_bars must be a 1-D floating-point tensor"),
    (lambda: du.probability_flow(score_of(POINTS), torch.zeros(3, 1), "0.5"), TypeError, "alpha_bars must be"),
    (lambda: du.probability_flow(score_of(POINTS), torch.zeros(3), [0.5, 0.4]), ValueError,
     "x must have 2 dimensions"),
    (lambda: du.probability_flow(score_of(POINTS), torch.zeros(3, 1), [0.5, 0.4], method="euler"), ValueError,
     "method must be one of"),
    (lambda: du.probability_flow("score", torch.zeros(3, 1), [0.5, 0.4]), TypeError, "score_fn must be callable"),
    (lambda: du.probability_flow(lambda x, ab: x[:, :0], torch.zeros(3, 1), [0.5, 0.4]), ValueError,
     "score_fn must return a tensor of x's shape"),
    (lambda: du.probability_flow(score_of(POINTS), torch.zeros(3, 1), [0.5, 0.4], trajectory=1), TypeError,
     "trajectory must be a bool"),
    (lambda: du.ode_log_likelihood(score_of(POINTS), torch.zeros(3, 1), [0.4, 0.5]), ValueError,
     "alpha_bars must decrease strictly"),
    (lambda: du.ode_log_likelihood(score_of(POINTS), torch.zeros(3, 1), [0.5, 0.4], prior=3), TypeError,
     "prior must be None"),
    (lambda: du.ode_log_likelihood(score_of(POINTS), torch.zeros(3, 1), [0.5, 0.4], prior=lambda z: z), ValueError,
     "prior must return one log-density per sample"),
    (lambda: du.ode_log_likelihood(lambda x, ab: -x.detach(), torch.zeros(3, 1), [0.5, 0.4]), ValueError,
     "score_fn must be differentiable in x"),
    (lambda: du.ode_log_likelihood(score_of(POINTS), torch.zeros(3, 1, dtype=torch.long), [0.5, 0.4]), TypeError,
     "x must have a floating-point dtype"),
    (lambda: du.model_score(3, SCHEDULE), TypeError, "model must be callable"),
    (lambda: du.model_score(du.ExactDenoiser(POINTS, SCHEDULE), "linear"), TypeError,
     "schedule must be a NoiseSchedule"),
    (lambda: du.model_score(du.Denoiser(1, 100), SCHEDULE), ValueError, "model was built for T=100"),
    (lambda: du.model_score(du.ExactDenoiser(POINTS, SCHEDULE), SCHEDULE)(torch.zeros(3, 1, dtype=torch.float64),
                                                                          0.99999), ValueError,
     r"alpha_bar must lie in \[alpha_bar_T, alpha_bar_1\]"),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_inputs_raise_named_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_runs_on_the_meta_device():
    """Device-leak test without a GPU: on the meta device any hidden CPU tensor would fail."""
    meta = torch.device("meta")
    x = torch.empty(64, 2, device=meta)
    data = torch.empty(5, 2, device=meta)
    grid = du.logsnr_grid(0.9, 0.01, 4)  # a host constant
    path = du.probability_flow(score_of(data), x, grid, trajectory=True)
    assert path.device == meta and path.shape == (5, 64, 2)
    res = du.ode_log_likelihood(score_of(data), x, grid, prior=lambda z: du.mixture_log_density(z, data, 0.01))
    assert res.log_density.device == meta and res.log_density.shape == (64,) and res.x_end.device == meta
    res = du.ode_log_likelihood(score_of(data), x, grid, method="heun")
    assert res.log_density.device == meta
    schedule = du.NoiseSchedule.linear(1000, device=meta)
    net = du.Denoiser(2, 1000, device=meta)
    res = du.ode_log_likelihood(du.model_score(net, schedule), x, [0.5, 0.4, 0.3])
    assert res.log_density.device == meta and res.log_density.shape == (64,)
