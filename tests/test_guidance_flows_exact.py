"""Part IV's exact quantities: class posteriors, conditional scores, guidance at w = 0, the marginal velocity."""

import math

import pytest
import torch

import diffusion_utils as du

DATA = torch.tensor([[-15.0], [-5.0], [1.0], [10.0]], dtype=torch.float64)
LABELS = torch.tensor([0, 1, 0, 1])


def _normal_pdf(x, mean, var):
    return torch.exp(-((x - mean) ** 2) / (2 * var)) / math.sqrt(2 * math.pi * var)


def test_class_posterior_is_bayes_on_a_grid():
    x = torch.linspace(-20, 15, 301, dtype=torch.float64)[:, None]
    for ab in (0.999, 0.5, 0.01):
        post = du.class_posterior(x, DATA, LABELS, ab)
        assert post.shape == (301, 2)
        torch.testing.assert_close(post.sum(1), torch.ones(301, dtype=torch.float64), rtol=0, atol=1e-14)
        # Bayes by hand: p(c | x) = sum over the class's points of N(x; sqrt(ab) x_i, 1 - ab) / the sum over all points.
        dens = _normal_pdf(x, math.sqrt(ab) * DATA[:, 0], 1 - ab)  # (N, K)
        by_hand = torch.stack([dens[:, LABELS == c].sum(1) for c in (0, 1)], 1) / dens.sum(1, keepdim=True)
        ok = dens.sum(1) > 1e-300  # far out both vanish in float64; the package's softmax stays exact there
        torch.testing.assert_close(post[ok], by_hand[ok], rtol=1e-9, atol=1e-12)


def test_conditional_score_is_score_plus_gradient_of_log_class_posterior():
    x = torch.linspace(-18, 12, 61, dtype=torch.float64)[:, None].requires_grad_(True)
    ab = 0.3
    log_post = du.class_posterior(x, DATA, LABELS, ab)[:, 1].log()
    (grad,) = torch.autograd.grad(log_post.sum(), x)
    lhs = du.conditional_score(x.detach(), DATA, LABELS, 1, ab)
    rhs = du.mixture_score(x.detach(), DATA, ab) + grad
    torch.testing.assert_close(lhs, rhs, rtol=1e-9, atol=1e-10)


def test_exact_conditional_denoiser_and_guidance_at_zero_and_minus_one():
    s = du.NoiseSchedule.linear(100, dtype=torch.float64)
    model = du.ExactConditionalDenoiser(DATA, LABELS, s)
    assert model.null_label == 2 and model.T == 100
    x = torch.linspace(-10, 10, 7, dtype=torch.float64)[:, None]
    t = torch.full((7,), 40)
    uncond = du.ExactDenoiser(DATA, s)(x, t)
    torch.testing.assert_close(model(x, t, torch.full((7,), 2)), uncond, rtol=0, atol=1e-12)
    cls1 = du.ExactDenoiser(DATA[LABELS == 1], s)(x, t)
    torch.testing.assert_close(model(x, t, torch.ones(7, dtype=torch.long)), cls1, rtol=0, atol=1e-12)
    # Guidance: w = 0 is the conditional model, w = -1 the unconditional one; batched or not, the same numbers.
    g0 = du.guided(model, 1, 0.0)
    torch.testing.assert_close(g0(x, t), cls1, rtol=0, atol=1e-12)
    torch.testing.assert_close(du.guided(model, 1, -1.0)(x, t), uncond, rtol=0, atol=1e-12)
    g3, g3b = du.guided(model, 1, 3.0), du.guided(model, 1, 3.0, batched=False)
    torch.testing.assert_close(g3(x, t), g3b(x, t), rtol=0, atol=1e-12)
    torch.testing.assert_close(g3(x, t), 4 * cls1 - 3 * uncond, rtol=0, atol=1e-12)
    assert (g3.calls, g3.rows, g3b.calls, g3b.rows) == (2, 28, 2, 14)  # g3 was called twice, g3b once
    # Through the sampler: nfe counts guided evaluations; each cost two rows per sample.
    g = du.guided(model, 0, 2.0)
    res = du.sample(g, s, torch.zeros(5, 1, dtype=torch.float64), method="ddim", steps=10)
    assert res.nfe == 10 and g.calls == 10 and g.rows == 100


def test_guidance_and_class_inputs_are_validated():
    s = du.NoiseSchedule.linear(10, dtype=torch.float64)
    model = du.ExactConditionalDenoiser(DATA, LABELS, s)
    with pytest.raises(ValueError, match=r"label must lie in 0..1"):
        du.guided(model, 2, 1.0)
    with pytest.raises(TypeError, match="w must be a finite number"):
        du.guided(model, 0, float("nan"))
    with pytest.raises(TypeError, match="null_label is required"):
        du.guided(lambda x, t, y: x, 0, 1.0)
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        du.class_posterior(DATA, DATA, LABELS.double(), 0.5)
    with pytest.raises(ValueError, match="labels must have one entry per data point"):
        du.class_posterior(DATA, DATA, LABELS[:3], 0.5)
    with pytest.raises(ValueError, match="y must lie in 0..2"):
        model(DATA, torch.full((4,), 3), torch.full((4,), 3))


def test_marginal_velocity_is_the_conditional_mean_of_eps_minus_x0():
    """Orthogonality: E[(eps - x_0 - v(x_t)) g(x_t)] = 0 for test functions g, by Monte Carlo within 5 SE."""
    gen = torch.Generator().manual_seed(0)
    n = 400_000
    data = torch.tensor([[-1.5, 0.0], [-0.5, 1.0], [0.1, -0.4], [1.0, 0.6]], dtype=torch.float64)
    for t in (0.2, 0.6, 0.95):
        x0 = data[torch.randint(4, (n,), generator=gen)]
        eps = torch.randn(n, 2, generator=gen, dtype=torch.float64)
        xt = (1 - t) * x0 + t * eps
        resid = eps - x0 - du.marginal_velocity(xt, data, t)
        for g in (torch.ones(n), xt[:, 0], torch.sin(3 * xt[:, 1]), torch.tanh(xt[:, 0] * xt[:, 1])):
            prod = resid * g[:, None]
            mean, se = prod.mean(0), prod.std(0) / math.sqrt(n)
            assert bool((mean.abs() < 5 * se).all()), (t, mean, se)
        # Not a test that cannot fail: the velocity of data shifted by 0.1 leaves a mean residual far beyond 5 SE.
        wrong = eps - x0 - du.marginal_velocity(xt, data + 0.1, t)
        assert bool((wrong.mean(0).abs() > 5 * wrong.std(0) / math.sqrt(n)).all()), t


def test_marginal_velocity_limits_and_checks():
    data = DATA / 10
    x = torch.linspace(-2, 2, 9, dtype=torch.float64)[:, None]
    # t = 1: x_t is pure noise, independent of x_0, so the velocity is x - E[x_0].
    torch.testing.assert_close(du.marginal_velocity(x, data, 1.0), x - data.mean(), rtol=0, atol=1e-14)
    # Tiny t: the velocity points from the nearest data point, (x - x_i) / t.
    near = data[:2] + 1e-9
    torch.testing.assert_close(du.marginal_velocity(near, data, 1e-6), (near - data[:2]) / 1e-6, rtol=1e-6, atol=1e-6)
    # Per-sample t equals the float t row by row.
    tt = torch.linspace(0.1, 1.0, 9, dtype=torch.float64)
    rows = torch.cat([du.marginal_velocity(x[i : i + 1], data, float(tt[i])) for i in range(9)])
    torch.testing.assert_close(du.marginal_velocity(x, data, tt), rows, rtol=0, atol=1e-14)
    assert du.interpolant_alpha_bar(0.5) == 0.5
    with pytest.raises(ValueError, match=r"t must lie in \(0, 1\]"):
        du.marginal_velocity(x, data, 0.0)
    with pytest.raises(TypeError, match="t must be a float or a tensor"):
        du.marginal_velocity(x, data, "0.5")
    meta = du.marginal_velocity(torch.empty(3, 1, device="meta"), torch.empty(4, 1, device="meta"), 0.5)
    assert meta.device.type == "meta" and meta.shape == (3, 1)
