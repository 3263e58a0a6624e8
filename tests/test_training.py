"""Part II: time embedding, denoiser, training loop, sample-quality metrics, toy data."""

import math

import pytest
import torch

import diffusion_utils as du


def test_sinusoidal_embedding_values():
    t = torch.tensor([0, 1, 500])
    e = du.sinusoidal_embedding(t, 8, max_period=10_000.0)
    assert e.shape == (3, 8)
    torch.testing.assert_close(e[0], torch.tensor([1.0] * 4 + [0.0] * 4))
    # first frequency is 1, last is 10000^(-3/4) = 0.001
    assert e[1, 0].item() == pytest.approx(math.cos(1.0), rel=1e-6)
    assert e[2, 7].item() == pytest.approx(math.sin(500 * 1e-3), rel=1e-5)
    with pytest.raises(ValueError, match="dim must be even"):
        du.sinusoidal_embedding(t, 7)


def test_denoiser_is_seeded_and_checks_shapes():
    a = du.Denoiser(2, 100, generator=torch.Generator().manual_seed(4))
    b = du.Denoiser(2, 100, generator=torch.Generator().manual_seed(4))
    x, t = torch.randn(5, 2), torch.tensor([1, 2, 3, 4, 5])
    torch.testing.assert_close(a(x, t), b(x, t), rtol=0, atol=0)
    assert a(x, t).shape == (5, 2)
    with pytest.raises(ValueError, match=r"xt must have shape \(N, 2\)"):
        a(torch.randn(5, 3), t)
    with pytest.raises(ValueError, match="t must have shape"):
        a(x, t[:3])
    with pytest.raises(TypeError, match="generator must be a CPU"):
        du.Denoiser(1, 10, generator="seed")


def test_loss_of_the_zero_predictor_is_the_noise_variance():
    class Zero(torch.nn.Module):
        T = 100

        def forward(self, x, t):
            return torch.zeros_like(x)

    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(20_000, 2, generator=g)
    loss = du.diffusion_loss(Zero(), x0, du.NoiseSchedule.linear(100), g)
    # E eps^2 = 1; per-element variance of eps^2 is 2, averaged over 40,000 values
    assert abs(loss.item() - 1.0) < 5 * math.sqrt(2 / 40_000)


def test_training_lowers_the_loss_and_validates():
    s = du.NoiseSchedule.linear(100)
    data = torch.randn(256, 2, generator=torch.Generator().manual_seed(0))
    model = du.Denoiser(2, 100, hidden=32, generator=torch.Generator().manual_seed(0))
    losses = du.train_denoiser(model, data, s, steps=300, generator=torch.Generator().manual_seed(1), progress=False)
    assert losses.shape == (300,) and losses.device.type == "cpu"
    assert losses[-50:].mean() < 0.85 * losses[:50].mean()
    with pytest.raises(ValueError, match="model was built for T=100"):
        du.train_denoiser(model, data, du.NoiseSchedule.linear(50), steps=1, progress=False)
    with pytest.raises(ValueError, match="steps must lie in"):
        du.train_denoiser(model, data, s, steps=0, progress=False)
    with pytest.raises(ValueError, match="data must have 2 to 2 dimensions|data must have 2 dimensions"):
        du.train_denoiser(model, data[:, 0], s, steps=1, progress=False)


def test_fit_is_the_loop_behind_train_denoiser():
    """du.fit with the simple loss gives bitwise the weights train_denoiser gives; it minimises any loss it is given."""
    s = du.NoiseSchedule.linear(100)
    data = torch.randn(64, 1, generator=torch.Generator().manual_seed(0))
    nets = [du.Denoiser(1, 100, hidden=16, generator=torch.Generator().manual_seed(0)) for _ in range(2)]
    gen = torch.Generator().manual_seed(1)
    a = du.train_denoiser(nets[0], data, s, steps=20, batch_size=8, generator=gen, progress=False)
    gen = torch.Generator().manual_seed(1)

    def batch_loss(k):
        idx = torch.randint(64, (8,), generator=gen)
        return du.diffusion_loss(nets[1], data[idx], s, gen)

    b = du.fit(nets[1], batch_loss, steps=20, lr=2e-3, progress=False)
    assert torch.equal(a, b)
    assert all(torch.equal(p, q) for p, q in zip(nets[0].parameters(), nets[1].parameters(), strict=True))
    # A quadratic in one parameter: Adam with the cosine decay ends near the minimum at 3.
    w = torch.nn.Linear(1, 1, bias=False)
    losses = du.fit(w, lambda k: (w.weight.sum() - 3.0) ** 2, steps=400, lr=0.1, progress=False)
    assert losses.shape == (400,) and abs(w.weight.item() - 3.0) < 1e-2
    with pytest.raises(TypeError, match="batch_loss must be a callable"):
        du.fit(w, 1.0, steps=1, lr=0.1)
    with pytest.raises(ValueError, match="non-finite"):
        du.fit(w, lambda k: w.weight.sum() * float("nan"), steps=2, lr=0.1, progress=False)
    with pytest.raises(ValueError, match="steps must lie in"):
        du.fit(w, lambda k: w.weight.sum(), steps=0, lr=0.1)


def test_trained_1d_model_reaches_the_quality_target():
    """The book's 1-D recipe (chapter: Training a denoiser) must give W1 < 0.5 to D; a broken loss or sampler fails here."""
    trained = du.train_toy_1d("cpu")
    assert trained.losses.shape == (6000,) and trained.losses[-500:].mean() < 0.25
    g = torch.Generator().manual_seed(0)
    xT = torch.randn(5000, 1, generator=g)
    samples = trained.scaler.decode(du.ancestral_sample(trained.model, trained.schedule, xT, g)[:, 0])
    assert du.wasserstein_1d(samples, trained.data[:, 0]).item() < 0.5


def test_wasserstein_1d_known_values():
    assert du.wasserstein_1d(torch.tensor([0.0]), torch.tensor([1.0])).item() == pytest.approx(1.0)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(500, generator=g), torch.randn(500, generator=g)
    assert du.wasserstein_1d(x, x + 2.5).item() == pytest.approx(2.5, rel=1e-6)
    # equal sizes: mean distance between order statistics
    expected = (torch.sort(x.double())[0] - torch.sort(y.double())[0]).abs().mean()
    assert du.wasserstein_1d(x, y).item() == pytest.approx(expected.item(), rel=1e-9)
    # weights: {0: 3/4, 1: 1/4} against {0: 1/4, 1: 3/4} moves 1/2 of the mass by 1
    w = du.wasserstein_1d(torch.tensor([0.0, 1.0]), torch.tensor([0.0, 1.0]), torch.tensor([3.0, 1.0]), torch.tensor([1.0, 3.0]))
    assert w.item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="x_weights must have one entry per sample"):
        du.wasserstein_1d(torch.zeros(3), torch.zeros(2), x_weights=torch.ones(2))


def test_sliced_wasserstein_of_a_shift():
    """Projections of a shift v on a random unit direction in 2-D have mean |v| E|cos phi| = 2|v|/pi."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 2, generator=g)
    v = torch.tensor([3.0, 4.0])
    n = 2000
    sw = du.sliced_wasserstein(x, x + v, n, torch.Generator().manual_seed(1)).item()
    se = 5.0 * math.sqrt(1 - 8 / math.pi**2) / math.sqrt(n)  # |v| * sd(|cos phi|) / sqrt(n)
    assert abs(sw - 5.0 * 2 / math.pi) < 5 * se
    assert du.sliced_wasserstein(x, x, 10).item() == 0.0
    with pytest.raises(ValueError, match="same dimension"):
        du.sliced_wasserstein(x, torch.zeros(3, 3))


def test_two_moons_and_scaler():
    g = torch.Generator().manual_seed(0)
    pts = du.two_moons(20_000, noise=0.0, generator=g, device="cpu")
    assert pts.shape == (20_000, 2)
    # with no jitter every point lies on one of the two unit half circles
    r_outer = pts.norm(dim=1)
    r_inner = (pts - torch.tensor([1.0, 0.5])).norm(dim=1)
    assert torch.minimum((r_outer - 1).abs(), (r_inner - 1).abs()).max() < 1e-5
    # mean (1/2, 1/4): x = cos (mean 0) or 1 - cos (mean 1); y = sin (2/pi) or 1/2 - sin
    se = pts.std(0) / math.sqrt(20_000)
    assert torch.all((pts.mean(0) - torch.tensor([0.5, 0.25])).abs() < 5 * se)
    again = du.two_moons(20_000, noise=0.0, generator=torch.Generator().manual_seed(0), device="cpu")
    assert torch.equal(pts, again)
    scaler = du.DataScaler.fit(pts)
    z = scaler.encode(pts)
    # each coordinate centred; one scale for both, so the variances average to 1 and their ratio (the shape) is kept
    torch.testing.assert_close(z.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    assert z.var(0, unbiased=False).mean().item() == pytest.approx(1.0, rel=1e-5)
    ratio = pts.std(0)[0] / pts.std(0)[1]
    assert (z.std(0)[0] / z.std(0)[1]).item() == pytest.approx(ratio.item(), rel=1e-5)
    assert isinstance(scaler.shift, tuple) and len(scaler.shift) == 2
    torch.testing.assert_close(scaler.decode(z), pts)
    one_d = du.DataScaler.fit(du.toy_dataset("cpu"))
    assert one_d.shift == pytest.approx(-2.25) and one_d.scale == pytest.approx(math.sqrt(82.6875))
    with pytest.raises(ValueError, match="shift must be a finite number"):
        du.DataScaler((0.0, float("nan")), 1.0)
    with pytest.raises(ValueError, match="at least two points"):
        du.DataScaler.fit(torch.ones(1, 2))
    with pytest.raises(ValueError, match="scale must be a finite number > 0"):
        du.DataScaler(0.0, 0.0)
    with pytest.raises(ValueError, match="noise must be"):
        du.two_moons(10, noise=-1.0, device="cpu")
