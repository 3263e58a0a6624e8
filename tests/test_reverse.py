"""Part II: posterior, DDPM step, exact denoiser, ancestral sampler, ELBO."""

import math

import numpy as np
import pytest
import torch

import diffusion_utils as du


def reference_posterior(betas: np.ndarray, t: int):
    """The standard formulas (Ho et al. 2020, eq. 6-7) in float64 numpy, from beta_1..beta_T."""
    alphas = 1.0 - betas
    ab = np.cumprod(alphas)  # ab[k] = alpha_bar_{k+1}
    ab_t, ab_prev = ab[t - 1], (ab[t - 2] if t > 1 else 1.0)
    beta = betas[t - 1]
    return (
        math.sqrt(ab_prev) * beta / (1 - ab_t),
        math.sqrt(alphas[t - 1]) * (1 - ab_prev) / (1 - ab_t),
        (1 - ab_prev) / (1 - ab_t) * beta,
    )


@pytest.mark.parametrize("t", [1, 2, 10, 500, 1000])
def test_posterior_matches_standard_formulas(t):
    s = du.NoiseSchedule.linear(1000, dtype=torch.float64)
    c0, ct, var = reference_posterior(np.linspace(1e-4, 0.02, 1000), t)
    x0, xt = torch.tensor([0.7, -2.0], dtype=torch.float64), torch.tensor([1.5, 0.3], dtype=torch.float64)
    mean, v = du.posterior(x0, xt, s, t)
    np.testing.assert_allclose(mean.numpy(), c0 * x0.numpy() + ct * xt.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(v.numpy(), var, rtol=1e-10, atol=0)


def test_posterior_at_t1_is_the_data_with_zero_variance():
    s = du.NoiseSchedule.cosine(50)
    x0, xt = torch.tensor([3.0, -1.0]), torch.tensor([2.5, 0.0])
    mean, var = du.posterior(x0, xt, s, 1)
    assert torch.equal(mean, x0) and torch.equal(var, torch.zeros(2))


def test_posterior_with_tensor_times_and_float32():
    s = du.NoiseSchedule.linear(100)
    t = torch.tensor([1, 50, 100])
    mean, var = du.posterior(torch.ones(3), torch.zeros(3), s, t)
    for k, tk in enumerate(t.tolist()):
        c0, _, v = reference_posterior(np.linspace(1e-4, 0.02, 100), tk)
        assert mean[k].item() == pytest.approx(c0, rel=1e-5)
        assert var[k].item() == pytest.approx(v, rel=1e-5, abs=1e-12)


def test_posterior_variance_is_below_beta():
    coefs = du.reverse_coefficients(du.NoiseSchedule.linear(1000))
    assert torch.all(coefs.posterior_var[1:] <= coefs.beta[1:])
    assert math.isnan(coefs.coef_x0[0]) and coefs.posterior_var[1] == 0


def test_reverse_step_rejects_t0_and_names_it():
    s = du.NoiseSchedule.linear(10)
    with pytest.raises(ValueError, match=r"t must lie in \[1, 10\]"):
        du.posterior(torch.zeros(2), torch.zeros(2), s, 0)
    with pytest.raises(ValueError, match=r"t must lie in \[1, 10\]"):
        du.ddpm_step(torch.zeros(2), torch.zeros(2), 0, s)
    with pytest.raises(ValueError, match=r"t must lie in \[1, 10\]"):
        du.posterior(torch.zeros(2), torch.zeros(2), s, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"t must lie in \[0, 10\]"):
        du.ddpm_step(torch.zeros(2), torch.zeros(2), 11, s)


def test_bad_inputs_are_named():
    s = du.NoiseSchedule.linear(10)
    with pytest.raises(ValueError, match="eps must be a tensor of xt's shape"):
        du.ddpm_step(torch.zeros(4), torch.zeros(3), 5, s)
    with pytest.raises(ValueError, match="variance must be one of"):
        du.ddpm_step(torch.zeros(4), torch.zeros(4), 5, s, variance="large")
    with pytest.raises(ValueError, match="xT must be finite"):
        du.ancestral_sample(du.ExactDenoiser(torch.zeros(1, 1), s), s, torch.full((3, 1), math.nan))
    with pytest.raises(ValueError, match="model was built for T=20 steps but schedule has T=10"):
        du.ancestral_sample(du.Denoiser(1, 20), s, torch.zeros(3, 1))
    with pytest.raises(TypeError, match="model must be callable"):
        du.ancestral_sample("model", s, torch.zeros(3, 1))


def test_non_finite_model_output_is_reported():
    s = du.NoiseSchedule.linear(10)

    def broken(x, t):
        return torch.full_like(x, math.inf)

    with pytest.raises(ValueError, match="non-finite samples"):
        du.ancestral_sample(broken, s, torch.zeros(3, 1))


def test_ddpm_step_formula_and_noise_from_generator():
    s = du.NoiseSchedule.linear(100, dtype=torch.float64)
    xt, eps = torch.tensor([0.5, -1.0], dtype=torch.float64), torch.tensor([0.2, 0.1], dtype=torch.float64)
    betas = np.linspace(1e-4, 0.02, 100)
    t = 40
    ab = np.cumprod(1 - betas)[t - 1]
    z = torch.randn(2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    _, _, var = reference_posterior(betas, t)
    expected = (xt - betas[t - 1] / math.sqrt(1 - ab) * eps) / math.sqrt(1 - betas[t - 1]) + math.sqrt(var) * z
    out = du.ddpm_step(xt, eps, t, s, torch.Generator().manual_seed(3))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)
    # at t = 1 no noise is added
    out1 = du.ddpm_step(xt, eps, 1, s, torch.Generator().manual_seed(3))
    np.testing.assert_allclose(out1.numpy(), ((xt - math.sqrt(betas[0]) * eps) / math.sqrt(1 - betas[0])).numpy())


def test_predict_x0_inverts_the_forward_marginal():
    s = du.NoiseSchedule.cosine(200)
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(100, generator=g), torch.randn(100, generator=g)
    ab = s.alpha_bars[77]
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    torch.testing.assert_close(du.predict_x0(xt, eps, s, 77), x0, rtol=1e-4, atol=1e-4)


def test_exact_denoiser_recovers_the_noise_for_one_data_point():
    s = du.NoiseSchedule.linear(100)
    point = torch.tensor([[1.5, -0.5]])
    g = torch.Generator().manual_seed(1)
    eps = torch.randn(50, 2, generator=g)
    t = torch.randint(1, 101, (50,), generator=g)
    ab = s.alpha_bars[t][:, None]
    xt = ab.sqrt() * point + (1 - ab).sqrt() * eps
    torch.testing.assert_close(du.ExactDenoiser(point, s)(xt, t), eps, rtol=1e-3, atol=1e-3)


def test_exact_denoiser_posterior_mean_is_a_weighted_average():
    s = du.NoiseSchedule.linear(100)
    data = torch.tensor([[-1.0], [1.0]])
    mean = du.ExactDenoiser(data, s).posterior_mean(torch.tensor([[0.0], [5.0]]), torch.tensor([100, 100]))
    assert abs(mean[0, 0].item()) < 1e-6  # symmetric point: equal weights
    # large t: the posterior is near the prior (1/2, 1/2) tilted towards the closer point
    ab = s.alpha_bars[100].item()
    w = 1 / (1 + math.exp(-2 * 5.0 * math.sqrt(ab) / (1 - ab)))
    assert mean[1, 0].item() == pytest.approx(2 * w - 1, rel=1e-4)


def test_ancestral_sampling_with_exact_denoiser_lands_on_the_data():
    s = du.NoiseSchedule.linear(1000)
    data = du.toy_dataset("cpu")
    scaler = du.DataScaler.fit(data)
    g = torch.Generator().manual_seed(0)
    model = du.ExactDenoiser(scaler.encode(data)[:, None], s)
    path = du.ancestral_sample(model, s, torch.randn(4000, 1, generator=g), g, trajectory=True)
    assert path.shape == (1001, 4000, 1)
    samples = scaler.decode(path[0, :, 0])
    dist = (samples[:, None] - data).abs().min(1).values
    assert dist.max() < 0.05
    # each point gets a quarter of the samples, within 5 binomial standard errors
    nearest = (samples[:, None] - data).abs().argmin(1)
    frac = torch.bincount(nearest, minlength=4) / 4000
    assert torch.all((frac - 0.25).abs() < 5 * math.sqrt(0.25 * 0.75 / 4000))


def test_sampling_on_meta_device_leaks_nothing():
    meta = torch.device("meta")
    s = du.NoiseSchedule.linear(20, device=meta)
    model = du.Denoiser(2, 20, device=meta)
    out = du.ancestral_sample(model, s, torch.empty(64, 2, device=meta), trajectory=True)
    assert out.device == meta and out.shape == (21, 64, 2)
    exact = du.ExactDenoiser(torch.empty(5, 2, device=meta), s)
    assert du.ancestral_sample(exact, s, torch.empty(64, 2, device=meta)).device == meta
    assert du.ddpm_step(torch.empty(8, 2, device=meta), torch.empty(8, 2, device=meta), 5, s).device == meta


def test_elbo_split_matches_trajectory_estimate():
    """The closed-form split and the raw log-ratio along trajectories estimate the same -ELBO."""
    s = du.NoiseSchedule.linear(200)
    data = torch.tensor([[-1.0], [0.5]])
    model = du.ExactDenoiser(data, s)
    g = torch.Generator().manual_seed(0)
    x0 = data[torch.randint(2, (3000,), generator=g)]
    for variance in ("beta", "posterior"):
        a = du.elbo_terms(model, x0, s, g, variance).total()
        b = du.elbo_trajectory(model, x0, s, g, variance)
        se = math.sqrt(a.var() / a.numel() + b.var() / b.numel())
        assert abs(a.mean() - b.mean()) < 5 * se


def test_elbo_step_kl_is_weighted_noise_error():
    s = du.NoiseSchedule.linear(100, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(10, 1, generator=g, dtype=torch.float64)

    class Const:
        T = 100

        def __call__(self, x, t):
            return torch.full_like(x, 0.3)

    terms = du.elbo_terms(Const(), x0, s, torch.Generator().manual_seed(5), "posterior")
    # recompute x_t with the same draws and compare with beta^2 / (2 var alpha (1 - ab)) (eps - eps_hat)^2
    g2 = torch.Generator().manual_seed(5)
    c = du.reverse_coefficients(s)
    for t in range(1, 101):
        ab = s.alpha_bars[t]
        eps = torch.randn(x0.shape, generator=g2, dtype=torch.float64)
        if t == 1:
            continue
        w = c.beta[t] ** 2 / (2 * c.posterior_var[t] * (1 - c.beta[t]) * (1 - ab))
        torch.testing.assert_close(terms.steps[t], (w * (eps - 0.3) ** 2)[:, 0], rtol=1e-8, atol=1e-10)
    assert torch.all(terms.steps[0] == 0)


def test_gaussian_kl_and_log_prob():
    kl = du.gaussian_kl(torch.tensor(1.0), 2.0, torch.tensor(0.0), 1.0)
    assert kl.item() == pytest.approx(0.5 * (math.log(0.5) + 3.0 - 1.0))
    assert du.gaussian_kl(torch.tensor(0.3), 0.7, torch.tensor(0.3), 0.7).item() == pytest.approx(0.0, abs=1e-7)
    lp = du.gaussian_log_prob(torch.tensor(1.0), torch.tensor(0.0), 4.0)
    assert lp.item() == pytest.approx(-0.5 * math.log(8 * math.pi) - 1 / 8)


@pytest.mark.parametrize("t", [1, 10, 200, 900])
def test_exact_noise_predictor_is_the_scaled_score(t):
    """Tweedie (training chapter): E[eps | x_t] = -sqrt(1 - ab_t) d/dx log q_t(x_t), in float64."""
    schedule = du.NoiseSchedule.linear(1000, dtype=torch.float64)
    data = torch.tensor([-15.0, -5.0, 1.0, 10.0], dtype=torch.float64)
    ab = float(schedule.alpha_bars[t])
    # points within 3 sd of each mode, where q_t does not underflow
    offsets = math.sqrt(1 - ab) * torch.linspace(-3, 3, 11, dtype=torch.float64)
    x = (math.sqrt(ab) * data[:, None] + offsets).flatten().requires_grad_(True)
    log_q = du.marginal_density(x, data, schedule, t).log()
    (score,) = torch.autograd.grad(log_q.sum(), x)
    eps = du.ExactDenoiser(data[:, None], schedule)(x.detach()[:, None], torch.full((44,), t))[:, 0]
    expected = -math.sqrt(1 - ab) * score
    assert torch.allclose(eps, expected, rtol=1e-9, atol=1e-9), (eps - expected).abs().max()
