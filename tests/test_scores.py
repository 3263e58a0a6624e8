"""Exact scores, denoisers, posteriors and log-densities of a noised point cloud (diffusion_utils/core/scores.py).

Chapter: Scores and Tweedie. Every function is compared with an independent formula (autograd of the log-density,
brute-force Gaussian sums in float64, a Monte Carlo conditional mean), at single and per-sample noise levels.
"""

import math

import pytest
import torch

import diffusion_utils as du

F64 = torch.float64
DATA_1D = torch.tensor(du.DATASET, dtype=F64)[:, None] / 9.0  # (4, 1), about unit scale
WEIGHTS = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=F64)


def moons_2d(n: int = 40) -> torch.Tensor:
    return du.two_moons(n, generator=torch.Generator().manual_seed(0), device="cpu", dtype=F64)


def brute_force(x: torch.Tensor, data: torch.Tensor, ab: float, weights: torch.Tensor | None = None):
    """Gaussian densities summed term by term: log q(x), p(i | x) and E[x0 | x] (float64)."""
    K, d = data.shape
    w = torch.full((K,), 1.0 / K, dtype=F64) if weights is None else weights / weights.sum()
    var = 1.0 - ab
    sq = ((x[:, None, :] - math.sqrt(ab) * data[None]) ** 2).sum(-1)  # (N, K)
    dens = w * torch.exp(-0.5 * sq / var) / (2 * math.pi * var) ** (d / 2)
    q = dens.sum(1)
    post = dens / q[:, None]
    return torch.log(q), post, post @ data


def autograd_score(x: torch.Tensor, data: torch.Tensor, ab, weights=None) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(du.mixture_log_density(x, data, ab, weights).sum(), x)
    return grad


@pytest.mark.parametrize("ab", [1e-4, 0.02, 0.5, 0.9, 0.999, 1 - 1e-6])
@pytest.mark.parametrize("weighted", [False, True])
def test_score_is_the_gradient_of_the_log_density_1d(ab, weighted):
    weights = WEIGHTS if weighted else None
    x = torch.linspace(-3, 3, 301, dtype=F64)[:, None]
    exact = du.mixture_score(x, DATA_1D, ab, weights)
    torch.testing.assert_close(exact, autograd_score(x, DATA_1D, ab, weights), rtol=1e-9, atol=1e-9 * exact.abs().max())


@pytest.mark.parametrize("ab", [0.999, 0.9, 0.3, 0.01])
def test_score_is_the_gradient_of_the_log_density_2d(ab):
    data = moons_2d()
    weights = torch.rand(len(data), generator=torch.Generator().manual_seed(1), dtype=F64) + 0.1
    x = 2 * torch.randn(200, 2, generator=torch.Generator().manual_seed(2), dtype=F64)
    for w in (None, weights):
        exact = du.mixture_score(x, data, ab, w)
        torch.testing.assert_close(exact, autograd_score(x, data, ab, w), rtol=1e-9, atol=1e-9 * exact.abs().max())


@pytest.mark.parametrize("ab", [0.05, 0.5, 0.99])
def test_denoiser_posterior_and_log_density_match_brute_force(ab):
    data = moons_2d(30)
    weights = torch.linspace(1.0, 3.0, 30, dtype=F64)
    x = torch.randn(100, 2, generator=torch.Generator().manual_seed(3), dtype=F64)
    for w in (None, weights):
        log_q, post, mean = brute_force(x, data, ab, w)
        torch.testing.assert_close(du.mixture_log_density(x, data, ab, w), log_q, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(du.mixture_posterior(x, data, ab, w), post, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(du.mixture_denoiser(x, data, ab, w), mean, rtol=1e-10, atol=1e-12)
    assert torch.allclose(du.mixture_posterior(x, data, ab).sum(1), torch.ones(100, dtype=F64))


def test_log_density_agrees_with_marginal_density_in_1d():
    """The same q_t as Part I's du.marginal_density (1-D, integer t of a schedule)."""
    s = du.NoiseSchedule.linear(200, dtype=F64)
    grid = torch.linspace(-2, 2, 401, dtype=F64)
    for t in (1, 30, 200):
        ab = s.alpha_bars[t].item()
        ours = du.mixture_log_density(grid[:, None], DATA_1D, ab).exp()
        torch.testing.assert_close(ours, du.marginal_density(grid, DATA_1D[:, 0], s, t), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("ab", [1e-3, 0.3, 0.97])
def test_tweedie_identity(ab):
    """E[x0 | x] = (x + (1 - ab) score) / sqrt(ab), and E[eps | x] = -sqrt(1 - ab) score."""
    data = moons_2d(25)
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(4), dtype=F64)
    score = du.mixture_score(x, data, ab)
    torch.testing.assert_close(du.mixture_denoiser(x, data, ab), (x + (1 - ab) * score) / math.sqrt(ab))
    _, post, _ = brute_force(x, data, ab)
    eps_given_i = (x[:, None, :] - math.sqrt(ab) * data[None]) / math.sqrt(1 - ab)  # eps if x0 = x_i
    torch.testing.assert_close((post[:, :, None] * eps_given_i).sum(1), -math.sqrt(1 - ab) * score)


def test_denoiser_is_the_monte_carlo_conditional_mean():
    """Draw (x0, x_t) pairs; the mean of x0 over x_t in a narrow bin matches E[x0 | x_t = centre] within 5 SE."""
    g = torch.Generator().manual_seed(5)
    ab, n, h = 0.7, 2_000_000, 0.01
    data = torch.tensor([[-1.0], [0.5], [1.2]], dtype=F64)
    x0 = data[torch.randint(3, (n,), generator=g), 0]
    xt = math.sqrt(ab) * x0 + math.sqrt(1 - ab) * torch.randn(n, generator=g, dtype=F64)
    for c in (-0.2, 0.3, 0.8):
        inside = (xt - c).abs() < h
        sample = x0[inside]
        se = sample.std().item() / math.sqrt(len(sample))
        exact = du.mixture_denoiser(torch.tensor([[c]], dtype=F64), data, ab).item()
        assert len(sample) > 5000 and abs(sample.mean().item() - exact) < 5 * se, (c, sample.mean(), exact, se)


@pytest.mark.parametrize("ab", [0.01, 0.5, 0.99])
def test_far_away_points_stay_finite_and_correct(ab):
    """At |x| = 1e3 every term of the mixture underflows, but the softmax keeps the nearest point's pull."""
    x = torch.tensor([[1e3], [-1e3]], dtype=F64)
    nearest = torch.tensor([[DATA_1D.max()], [DATA_1D.min()]], dtype=F64)
    score = du.mixture_score(x, DATA_1D, ab)
    assert torch.isfinite(score).all()
    torch.testing.assert_close(score, (math.sqrt(ab) * nearest - x) / (1 - ab), rtol=1e-12, atol=0.0)
    torch.testing.assert_close(du.mixture_denoiser(x, DATA_1D, ab), nearest)
    expected = -0.5 * (x[:, 0] - math.sqrt(ab) * nearest[:, 0]) ** 2 / (1 - ab) - 0.5 * math.log(2 * math.pi * (1 - ab))
    log_q = du.mixture_log_density(x, DATA_1D, ab)
    assert torch.isfinite(log_q).all()
    torch.testing.assert_close(log_q, expected + math.log(0.25), rtol=1e-9, atol=0.0)
    far_2d = torch.tensor([[1e3, -1e3]], dtype=F64)
    data = torch.tensor([[-1.0, 1.0], [0.0, 0.0], [1.0, -1.0]], dtype=F64)  # the last is nearest by far
    score = du.mixture_score(far_2d, data, ab)
    torch.testing.assert_close(score, (math.sqrt(ab) * data[2:] - far_2d) / (1 - ab), rtol=1e-12, atol=0.0)


def test_per_sample_alpha_bar_equals_per_sample_floats():
    data = moons_2d(20)
    weights = torch.arange(1, 21, dtype=F64)
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(6), dtype=F64)
    abs_ = torch.tensor([1e-4, 0.1, 0.4, 0.6, 0.95, 0.9999], dtype=F64)
    for fn in (du.mixture_score, du.mixture_denoiser, du.mixture_posterior, du.mixture_log_density):
        together = fn(x, data, abs_, weights)
        one_by_one = torch.cat([fn(x[i : i + 1], data, float(abs_[i]), weights) for i in range(6)])
        torch.testing.assert_close(together, one_by_one, rtol=1e-13, atol=0.0)
    # a float32 tensor of noise levels is used in x's dtype
    torch.testing.assert_close(du.mixture_score(x, data, abs_.float()), du.mixture_score(x, data, abs_.float().double()))


def test_exact_denoiser_is_the_tweedie_noise_of_mixture_score():
    s = du.NoiseSchedule.linear(100, dtype=F64)
    data = moons_2d(30)
    weights = torch.linspace(0.5, 1.5, 30, dtype=F64)
    t = torch.tensor([1, 5, 20, 50, 99, 100])
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(7), dtype=F64)
    for w in (None, weights):
        model = du.ExactDenoiser(data, s, w)
        ab = s.alpha_bars[t]
        expected = -(1 - ab).sqrt()[:, None] * du.mixture_score(x, data, ab, w)
        torch.testing.assert_close(model(x, t), expected, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(model.posterior_mean(x, t), du.mixture_denoiser(x, data, ab, w))


X = torch.zeros(3, 1, dtype=F64)
BAD = [
    ({"alpha_bar": 1.0}, ValueError, r"alpha_bar must lie in \[0, 1\)"),
    ({"alpha_bar": -0.1}, ValueError, r"alpha_bar must lie in \[0, 1\)"),
    ({"alpha_bar": torch.tensor([0.5, 1.0, 0.5], dtype=F64)}, ValueError, r"alpha_bar must lie in \[0, 1\)"),
    ({"alpha_bar": torch.full((2,), 0.5, dtype=F64)}, ValueError, r"alpha_bar must be a float or a tensor of shape \(3,\)"),
    ({"alpha_bar": torch.full((3, 1), 0.5, dtype=F64)}, ValueError, "alpha_bar must be a float or a tensor of shape"),
    ({"alpha_bar": torch.tensor([1, 0, 0])}, TypeError, "alpha_bar must be a float or a floating-point tensor"),
    ({"alpha_bar": True}, TypeError, "alpha_bar must be a float or a tensor, got bool"),
    ({"alpha_bar": "0.5"}, TypeError, "alpha_bar must be a float or a tensor, got str"),
    ({"weights": torch.tensor([0.5, -0.1, 0.3, 0.3], dtype=F64)}, ValueError, "weights must be >= 0"),
    ({"weights": torch.zeros(4, dtype=F64)}, ValueError, "positive sum"),
    ({"weights": torch.ones(3, dtype=F64)}, ValueError, r"one entry per data point \(4\), got 3"),
    ({"weights": torch.ones(4, 1, dtype=F64)}, ValueError, "weights must have 1 dimensions"),
    ({"weights": torch.ones(4, dtype=torch.long)}, TypeError, "weights must have a floating-point dtype"),
    ({"x": torch.zeros(3, dtype=F64)}, ValueError, "x must have 2 dimensions"),
    ({"x": torch.zeros(3, 2, dtype=F64)}, ValueError, "x and data must have the same dimension d"),
    ({"x": torch.zeros(3, 1, dtype=torch.long)}, TypeError, "x must have a floating-point dtype"),
    ({"x": torch.full((3, 1), float("nan"), dtype=F64)}, ValueError, "x must be finite"),
    ({"x": [[0.0]]}, TypeError, "x must be a torch.Tensor"),
    ({"data": torch.zeros(0, 1, dtype=F64)}, ValueError, "data must hold at least one point"),
    ({"data": DATA_1D[:, 0]}, ValueError, "data must have 2 dimensions"),
    ({"data": DATA_1D.to("meta")}, ValueError, "data is on meta but x is on cpu"),
    ({"weights": WEIGHTS.to("meta")}, ValueError, "weights is on meta but x is on cpu"),
    ({"alpha_bar": torch.full((3,), 0.5, device="meta")}, ValueError, "alpha_bar is on meta but x is on cpu"),
]


@pytest.mark.parametrize("fn", [du.mixture_score, du.mixture_denoiser, du.mixture_posterior, du.mixture_log_density])
@pytest.mark.parametrize(("change", "error", "match"), BAD, ids=[m[:30] for _, _, m in BAD])
def test_bad_inputs_raise_naming_the_argument(fn, change, error, match):
    args = {"x": X, "data": DATA_1D, "alpha_bar": 0.5, "weights": None} | change
    with pytest.raises(error, match=match):
        fn(args["x"], args["data"], args["alpha_bar"], args["weights"])


def test_scores_run_on_the_meta_device():
    """Device-leak test without a GPU: any hidden CPU tensor or value check on meta tensors would fail."""
    meta = torch.device("meta")
    x, data, w = torch.empty(500, 2, device=meta), torch.empty(300, 2, device=meta), torch.empty(300, device=meta)
    for ab in (0.5, torch.empty(500, device=meta)):
        for fn, shape in ((du.mixture_score, (500, 2)), (du.mixture_denoiser, (500, 2)),
                          (du.mixture_posterior, (500, 300)), (du.mixture_log_density, (500,))):
            out = fn(x, data, ab, w)
            assert out.device == meta and out.shape == shape, fn.__name__
