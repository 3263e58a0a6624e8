"""Flow matching (chapter: Flow matching): conversions, the exact velocity, the loss, the trainer and the flow sampler."""

import math

import pytest
import torch

import diffusion_utils as du
from diffusion_utils.core import flows

F64 = torch.float64
# The 1-D dataset standardised as the models see it.
DATA = (du.toy_dataset("cpu").to(F64)[:, None] + 2.25) / 9.093266487121582
MOONS = du.two_moons(64, generator=torch.Generator().manual_seed(3), device="cpu").to(F64)


def _cloud(n=50, d=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=gen, dtype=F64), torch.randn(n, d, generator=gen, dtype=F64)


def test_vp_conversions_round_trip():
    x0, eps = _cloud()
    ab = torch.linspace(0.02, 0.98, 50, dtype=F64)
    x = ab.sqrt()[:, None] * x0 + (1 - ab).sqrt()[:, None] * eps
    torch.testing.assert_close(du.eps_to_x0(eps, x, ab), x0, rtol=0, atol=1e-12)
    torch.testing.assert_close(du.x0_to_eps(x0, x, ab), eps, rtol=0, atol=1e-12)
    score = du.eps_to_score(eps, ab)
    torch.testing.assert_close(score, -eps / (1 - ab).sqrt()[:, None], rtol=0, atol=0)
    torch.testing.assert_close(du.score_to_eps(score, ab), eps, rtol=0, atol=1e-13)
    # A float level is the same as one per row.
    torch.testing.assert_close(du.eps_to_x0(eps, x, 0.3), du.eps_to_x0(eps, x, torch.full((50,), 0.3, dtype=F64)))


def test_interpolant_conversions_round_trip():
    x0, eps = _cloud(seed=1)
    t = torch.linspace(0.01, 0.99, 50, dtype=F64)
    x = (1 - t)[:, None] * x0 + t[:, None] * eps
    v = du.x0_eps_to_velocity(x0, eps)
    torch.testing.assert_close(v, eps - x0, rtol=0, atol=0)
    torch.testing.assert_close(du.velocity_to_x0(v, x, t), x0, rtol=0, atol=1e-13)
    torch.testing.assert_close(du.velocity_to_eps(v, x, t), eps, rtol=0, atol=1e-13)
    torch.testing.assert_close(du.x0_to_velocity(x0, x, t), v, rtol=0, atol=1e-11)
    torch.testing.assert_close(du.eps_to_velocity(eps, x, t), v, rtol=0, atol=1e-11)
    # Velocity <-> score of the interpolant's marginal, and the score from the VP side: x / s_t is a VP variable.
    s = torch.sqrt((1 - t) ** 2 + t**2)[:, None]
    ab = du.interpolant_alpha_bar(t)
    vp_score = du.eps_to_score(eps, ab) / s  # grad_x log p_t(x) = grad_y log q(y) / s_t with y = x / s_t
    torch.testing.assert_close(du.velocity_to_score(v, x, t), vp_score, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(du.score_to_velocity(vp_score, x, t), v, rtol=1e-10, atol=1e-10)


def test_exact_velocity_matches_the_exact_denoiser_and_the_exact_score():
    """Three routes to the same field: marginal_velocity, E[x_0 | x] through x0_to_velocity, the score through
    score_to_velocity (the probability-flow ODE of the interpolant)."""
    x = torch.linspace(-3, 3, 41, dtype=F64)[:, None]
    for t in (0.1, 0.5, 0.9):
        v = du.ExactVelocity(DATA)(x, torch.full((41,), t, dtype=F64))
        torch.testing.assert_close(v, du.marginal_velocity(x, DATA, t), rtol=0, atol=0)
        s = math.sqrt((1 - t) ** 2 + t**2)
        ab = du.interpolant_alpha_bar(t)
        x0_hat = du.mixture_denoiser(x / s, DATA, ab)
        torch.testing.assert_close(du.x0_to_velocity(x0_hat, x, t), v, rtol=1e-12, atol=1e-12)
        score = du.mixture_score(x / s, DATA, ab) / s
        torch.testing.assert_close(du.score_to_velocity(score, x, t), v, rtol=1e-10, atol=1e-10)
    # marginal_velocity's own posterior mean (one matrix product) against mixture_denoiser's, in 2-D and in float32.
    y = torch.randn(300, 2, generator=torch.Generator().manual_seed(8), dtype=F64) * 1.5
    w = torch.rand(64, generator=torch.Generator().manual_seed(9), dtype=F64)
    for t in (0.02, 0.3, 0.97):
        s = math.sqrt((1 - t) ** 2 + t**2)
        ab = du.interpolant_alpha_bar(t)
        for weights in (None, w):
            via = du.x0_to_velocity(du.mixture_denoiser(y / s, MOONS, ab, weights), y, t)
            torch.testing.assert_close(du.marginal_velocity(y, MOONS, t, weights), via, rtol=1e-9, atol=1e-9)
        v64 = du.marginal_velocity(y, MOONS, t)
        torch.testing.assert_close(du.marginal_velocity(y.float(), MOONS.float(), t).double(), v64, rtol=1e-3, atol=1e-3)
    weights = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=F64)
    torch.testing.assert_close(
        du.ExactVelocity(DATA, weights)(x, torch.full((41,), 0.4, dtype=F64)),
        du.marginal_velocity(x, DATA, 0.4, weights),
    )
    with pytest.raises(ValueError, match="weights must have one entry per data point"):
        du.ExactVelocity(DATA, weights[:3])


def test_conversion_inputs_are_named():
    x0, eps = _cloud(5)
    with pytest.raises(ValueError, match=r"alpha_bar must lie in \(0, 1\]"):
        du.eps_to_x0(eps, x0, 0.0)
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\)"):
        du.eps_to_velocity(eps, x0, 1.0)
    with pytest.raises(ValueError, match=r"t must lie in \(0, 1\]"):
        du.x0_to_velocity(eps, x0, 0.0)
    with pytest.raises(ValueError, match="v must have x's shape"):
        du.velocity_to_x0(eps[:3], x0, 0.5)
    with pytest.raises(TypeError, match="t must be a float or a tensor"):
        du.velocity_to_eps(eps, x0, "0.5")
    with pytest.raises(ValueError, match=r"t must be a float or a tensor of shape \(5,\)"):
        du.velocity_to_eps(eps, x0, torch.ones(3, dtype=F64))


def _loss_mc(model, data, n, seed):
    """Per-row flow-matching losses (n,) with fixed draws, so that fields are compared on the same samples."""
    gen = torch.Generator().manual_seed(seed)
    x0 = data[torch.randint(data.shape[0], (n,), generator=gen)]
    eps = torch.randn(x0.shape, generator=gen, dtype=F64)
    t = 1.0 - torch.rand(n, generator=gen, dtype=F64)
    xt = (1 - t)[:, None] * x0 + t[:, None] * eps
    return ((model(xt, t) - (eps - x0)) ** 2).sum(1)


def test_exact_velocity_minimises_the_flow_matching_loss():
    """L(v + delta) - L(v) = E|delta|^2 > 0 for any perturbation delta: the paired difference is beyond 5 SE."""
    exact = du.ExactVelocity(MOONS)
    base = _loss_mc(exact, MOONS, 20_000, 0)
    for delta in (lambda x, t: 0.1 * torch.ones_like(x), lambda x, t: 0.2 * torch.sin(x) * t[:, None]):
        diff = _loss_mc(lambda x, t, delta=delta: exact(x, t) + delta(x, t), MOONS, 20_000, 0) - base
        assert float(diff.mean()) > 5 * float(diff.std()) / math.sqrt(diff.numel())
    # du.flow_matching_loss is the same Monte Carlo mean (per coordinate) and uses the given coupling.
    gen = torch.Generator().manual_seed(5)
    noise = torch.randn(MOONS.shape, generator=gen, dtype=F64)
    zero = du.flow_matching_loss(lambda x, t: noise - MOONS, MOONS, noise=noise, generator=gen)
    assert float(zero) == 0.0  # the conditional velocity of the coupling itself has loss exactly 0
    loss = du.flow_matching_loss(exact, MOONS, generator=torch.Generator().manual_seed(6))
    assert 0.0 < float(loss) < 2.0
    with pytest.raises(ValueError, match="noise must have x0's shape"):
        du.flow_matching_loss(exact, MOONS, noise=noise[:3])
    with pytest.raises(ValueError, match=r"model must return a velocity of x0's shape \(64, 2\), got \(64,\)"):
        du.flow_matching_loss(lambda x, t: x[:, 0], MOONS)


def test_sample_flow_counts_calls_and_returns_paths():
    x1 = torch.randn(30, 1, generator=torch.Generator().manual_seed(0), dtype=F64)
    calls = []

    def model(x, t):
        calls.append(t)
        assert t.dtype == F64 and t.shape == (30,)
        return du.marginal_velocity(x, DATA, t)

    for method, steps, nfe in (("euler", 7, 7), ("heun", 7, 13), ("heun", 1, 1)):
        calls.clear()
        out = du.sample_flow(model, x1, method=method, steps=steps)
        assert out.nfe == nfe == len(calls)
        assert float(calls[0][0]) == 1.0 and float(calls[-1][0]) > 0
    path = du.sample_flow(model, x1, method="heun", steps=5, trajectory=True)
    assert path.samples.shape == (6, 30, 1) and torch.equal(path.samples[0], x1)
    torch.testing.assert_close(path.samples[-1], du.sample_flow(model, x1, method="heun", steps=5).samples)
    torch.testing.assert_close(du.flow_time_grid(4), torch.tensor([1.0, 0.75, 0.5, 0.25, 0.0], dtype=F64))
    torch.testing.assert_close(du.flow_time_grid(2, "quadratic"), torch.tensor([1.0, 0.25, 0.0], dtype=F64))
    # Euler on a constant field c moves x1 by -c exactly, whatever the steps.
    const = du.sample_flow(lambda x, t: torch.full_like(x, 2.0), x1, steps=3)
    torch.testing.assert_close(const.samples, x1 - 2.0, rtol=0, atol=1e-15)


def test_sample_flow_leaves_a_model_that_returns_its_input_alone():
    """v(x, t) = x returns x itself: Heun must not add into it (x1 and the path stay intact). Heun's step on dx/dt = x
    multiplies by 1 + h + h^2/2 (h = -1/3 here) on the two steps before the last, Euler's 1 + h on the last."""
    x1 = torch.ones(3, 1, dtype=F64)
    out = du.sample_flow(lambda x, t: x, x1, method="heun", steps=3, trajectory=True)
    assert torch.equal(x1, torch.ones(3, 1, dtype=F64)) and torch.equal(out.samples[0], x1)
    h = -1 / 3
    want = torch.tensor([1.0, 1 + h + h**2 / 2, (1 + h + h**2 / 2) ** 2, (1 + h + h**2 / 2) ** 2 * (1 + h)], dtype=F64)
    torch.testing.assert_close(out.samples[:, 0, 0], want, rtol=0, atol=1e-15)


def test_euler_is_first_order_and_heun_second_order():
    """Error at t = 1/4 against a fine Heun solve from the same x1, exact velocity: log-log slopes near 1 and 2.

    Measured on the way, not at t = 0: there every exact path lands on a data point, and the error is a jump (a
    path that picked another point) or zero, with no order to measure.
    """
    x1 = torch.randn(200, 2, generator=torch.Generator().manual_seed(1), dtype=F64)
    exact = du.ExactVelocity(MOONS)
    ref = du.sample_flow(exact, x1, method="heun", steps=2048, trajectory=True).samples[1536]
    for method, low, high in (("euler", 0.9, 1.1), ("heun", 1.85, 2.3)):
        errs = []
        for n in (16, 32, 64):
            path = du.sample_flow(exact, x1, method=method, steps=n, trajectory=True).samples
            errs.append(float((path[3 * n // 4] - ref).norm(dim=1).mean()))
        slopes = [math.log2(errs[i] / errs[i + 1]) for i in range(2)]
        assert all(low < s < high for s in slopes), (method, errs, slopes)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "rk4", "steps": 3}, ValueError, "method must be one of"),
        ({"steps": 0}, ValueError, r"steps must lie in \[1, inf\)"),
        ({"steps": 2.5}, TypeError, "steps must be an int"),
        ({"steps": 3, "grid": "karras"}, ValueError, "grid must be one of"),
    ],
)
def test_sample_flow_bad_input_is_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        du.sample_flow(du.ExactVelocity(DATA), torch.zeros(4, 1, dtype=F64), **kwargs)


def test_sample_flow_errors_on_bad_noise_and_bad_model():
    with pytest.raises(ValueError, match="x1 must be finite"):
        du.sample_flow(du.ExactVelocity(DATA), torch.full((4, 1), float("nan"), dtype=F64), steps=3)
    with pytest.raises(ValueError, match=r"model must return a velocity of x's shape \(4, 1\), got \(4, 2\)"):
        du.sample_flow(lambda x, t: torch.zeros(4, 2), torch.zeros(4, 1), steps=3)
    with pytest.raises(ValueError, match="non-finite samples"):
        du.sample_flow(lambda x, t: x / 0.0, torch.ones(4, 1), steps=2)


def test_train_velocity_uses_fit_and_learns_the_coupling():
    """train_velocity's weights are bitwise those of du.fit on the same batches; the trained field's loss on the
    coupling drops well below the untrained one's (same draws of t)."""
    data = MOONS.float()
    noise = torch.randn(data.shape, generator=torch.Generator().manual_seed(2))

    def run(use_fit):
        model = du.VelocityNet(2, hidden=32, depth=2, generator=torch.Generator().manual_seed(0))
        gen = torch.Generator().manual_seed(1)
        if use_fit:

            def batch_loss(k):
                idx = torch.randint(64, (32,), generator=gen)
                return du.flow_matching_loss(model, data[idx], noise=noise[idx], generator=gen)

            losses = du.fit(model, batch_loss, steps=200, lr=1e-2, progress=False)
        else:
            losses = du.train_velocity(
                model, data, noise=noise, steps=200, batch_size=32, lr=1e-2, generator=gen, progress=False
            )
        return model, losses

    (m1, l1), (m2, l2) = run(True), run(False)
    assert torch.equal(l1, l2)
    for a, b in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(a, b)
    fresh = du.VelocityNet(2, hidden=32, depth=2, generator=torch.Generator().manual_seed(0))
    big = data.repeat(50, 1), noise.repeat(50, 1)

    def held(model):
        return float(du.flow_matching_loss(model, big[0], noise=big[1], generator=torch.Generator().manual_seed(9)))

    with torch.no_grad():
        assert held(m2) < 0.8 * held(fresh), (held(m2), held(fresh))
    with pytest.raises(ValueError, match="noise must have data's shape"):
        du.train_velocity(m1, data, noise=noise[:5], steps=1, progress=False)


def test_velocity_net_takes_float_times_and_matches_its_denoiser():
    net = du.VelocityNet(2, generator=torch.Generator().manual_seed(4))
    den = du.Denoiser(2, 1000, generator=torch.Generator().manual_seed(4))
    x, t = torch.randn(5, 2), torch.rand(5)
    torch.testing.assert_close(net(x, t), den(x, 1000 * t), rtol=0, atol=0)
    with pytest.raises(TypeError, match="t must be a floating-point tensor"):
        net(x, torch.ones(5, dtype=torch.long))


def test_flow_on_the_meta_device_leaks_nothing():
    meta = torch.device("meta")
    exact = du.ExactVelocity(torch.empty(4, 1, device=meta))
    for method in du.FLOW_METHODS:
        out = du.sample_flow(exact, torch.empty(16, 1, device=meta), method=method, steps=4, trajectory=True)
        assert out.samples.device == meta and out.samples.shape == (5, 16, 1)
    net = du.VelocityNet(2, device=meta)
    out = du.sample_flow(net, torch.empty(8, 2, device=meta), method="heun", steps=3)
    assert out.samples.device == meta and out.nfe == 5
    loss = du.flow_matching_loss(net, torch.empty(8, 2, device=meta))
    assert loss.device == meta and loss.shape == ()
    conv = du.velocity_to_score(torch.empty(8, 2, device=meta), torch.empty(8, 2, device=meta), 0.5)
    assert conv.device == meta


def test_recipe_is_seeded_and_cached_as_a_velocity_net(monkeypatch, tmp_path):
    monkeypatch.setenv("DIFFUSION_UTILS_CACHE", "off")
    a = du.train_flow_toy_1d("cpu", steps=20)
    b = du.train_flow_toy_1d("cpu", steps=20)
    assert isinstance(a.model, du.VelocityNet) and torch.equal(a.losses, b.losses)
    assert a.scaler == du.train_toy_1d("cpu", steps=1, cache=False).scaler and a.data.shape == (4, 1)
    monkeypatch.setenv("DIFFUSION_UTILS_CACHE", str(tmp_path))
    fresh = du.train_flow_toy_1d("cpu", steps=20)
    (cached_file,) = tmp_path.glob("train_flow_toy_1d-*.pt")

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of loading the cached file")

    monkeypatch.setattr(flows, "train_velocity", no_training)
    loaded = du.train_flow_toy_1d("cpu", steps=20)
    assert isinstance(loaded.model, du.VelocityNet) and torch.equal(loaded.losses, a.losses)
    x, t = torch.randn(6, 1), torch.rand(6)
    assert torch.equal(loaded.model(x, t), fresh.model(x, t)) and torch.equal(fresh.model(x, t), a.model(x, t))
    assert cached_file.is_file()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_flow_on_cuda():
    cuda = torch.device("cuda")
    trained = du.train_flow_moons(cuda, steps=50, cache=False)
    assert next(trained.model.parameters()).device.type == "cuda"
    x1 = torch.randn(500, 2, generator=torch.Generator(device=cuda).manual_seed(0), device=cuda)
    out = du.sample_flow(trained.model, x1, method="heun", steps=10)
    assert out.samples.device.type == "cuda" and out.nfe == 19
    data = trained.scaler.encode(trained.data)
    exact = du.sample_flow(du.ExactVelocity(data[:200]), x1, method="euler", steps=10, trajectory=True)
    assert exact.samples.device.type == "cuda" and exact.samples.shape == (11, 500, 2)
    loss = du.flow_matching_loss(trained.model, data[:64], generator=torch.Generator(device=cuda).manual_seed(1))
    assert loss.device.type == "cuda"
