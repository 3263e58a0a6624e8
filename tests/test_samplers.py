"""Part III, Samplers compared: du.sample (six update rules), du.time_grid, NFE accounting, orders, devices."""

import itertools
import math

import pytest
import torch

import diffusion_utils as du

T = 1000
SCHEDULE = du.NoiseSchedule.linear(T, dtype=torch.float64)
AB = du.alpha_bars64(SCHEDULE)
GAMMA = ((1 - AB) / AB).sqrt()
LAM = 0.5 * (AB.log() - torch.log1p(-AB))
DATA = torch.tensor([-15.0, -5.0, 1.0, 10.0], dtype=torch.float64)[:, None]
POINTS = du.DataScaler.fit(DATA[:, 0]).encode(DATA)  # the book's dataset, standardised (model units)
EXACT = du.ExactDenoiser(POINTS, SCHEDULE)
ODE_METHODS = ("euler", "ddim", "heun", "dpmpp_2m")


def calls_for(method: str, steps: int) -> int:
    """The NFE the chapter states: Heun corrects every step but the last."""
    return 2 * steps - 1 if method == "heun" else steps


def xt_noise(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


class Counter:
    """A noise predictor that counts its calls and the times it was asked about."""

    def __init__(self, model):
        self.model, self.calls, self.times = model, 0, []

    def __call__(self, x, t):
        self.calls += 1
        self.times.append(int(t[0]))
        assert bool((t == t[0]).all()) and t.dtype == torch.long and t.shape == (x.shape[0],)
        return self.model(x, t)


# ---------------------------------------------------------------------------------------------- time grids


@pytest.mark.parametrize("grid", du.GRIDS)
@pytest.mark.parametrize("steps", [1, 2, 3, 7, 10, 50, 128, 500, 999, 1000])
def test_time_grid_is_a_valid_walk_down(grid, steps):
    times = du.time_grid(SCHEDULE, steps, grid)
    assert times.shape == (steps + 1,) and times.dtype == torch.long and times.device.type == "cpu"
    assert times[0] == T and times[-1] == 0
    assert bool((times[:-1] > times[1:]).all())  # strictly decreasing, so distinct
    assert bool((times[:-1] >= 1).all())  # the model is only asked about 1..T
    if steps == T:
        assert torch.equal(times, torch.arange(T, -1, -1))


def test_uniform_grid_is_equally_spaced_in_t():
    assert du.time_grid(SCHEDULE, 10).tolist() == list(range(1000, -1, -100))
    gaps = -du.time_grid(SCHEDULE, 7).diff()
    assert gaps.max() - gaps.min() <= 1  # rounding only


def test_logsnr_grid_is_equally_spaced_in_lambda():
    times = du.time_grid(SCHEDULE, 12, "logsnr")[:-1]
    assert times[-1] == 1  # ends at the lowest noise level the model knows
    steps = LAM[times].diff()
    ideal = (LAM[1] - LAM[T]) / 11
    # the nearest integer time is off by at most half a time step, i.e. by at most half the local lambda spacing
    slack = (LAM[times[1:] - 1] - LAM[times[1:]]).abs()
    assert bool(((steps - ideal).abs() <= slack + (LAM[times[:-1] - 1] - LAM[times[:-1]]).abs()).all())
    assert steps.std() / steps.mean() < 0.05


def test_karras_grid_is_equally_spaced_in_gamma_to_the_one_over_rho():
    rho = 7.0
    times = du.time_grid(SCHEDULE, 12, "karras", rho=rho)[:-1]
    assert times[-1] == 1
    r = GAMMA[times] ** (1 / rho)
    ideal = (GAMMA[1] ** (1 / rho) - GAMMA[T] ** (1 / rho)) / 11
    assert torch.allclose(r.diff(), ideal.expand(11), rtol=0.1)
    # Karras crowds the steps at low noise more than the log-SNR grid does at the start, less at the end
    logsnr = du.time_grid(SCHEDULE, 12, "logsnr")
    assert du.time_grid(SCHEDULE, 12, "karras")[1] > logsnr[1]


def test_karras_grid_tends_to_the_logsnr_grid():
    logsnr = du.time_grid(SCHEDULE, 20, "logsnr")
    gaps = [int((du.time_grid(SCHEDULE, 20, "karras", rho=rho) - logsnr).abs().max()) for rho in (7, 30, 1000)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] <= 3


def test_grids_run_out_of_integers_near_the_data():
    """The chapter's explanation of the bumpy slopes: at 128 steps the log-SNR grid ends in unit steps."""
    times = du.time_grid(SCHEDULE, 128, "logsnr")[:-1]
    assert torch.equal(times[-20:], torch.arange(20, 0, -1))


# ---------------------------------------------------------------------------------------------- NFE accounting


@pytest.mark.parametrize("grid", du.GRIDS)
@pytest.mark.parametrize("method", du.METHODS)
@pytest.mark.parametrize("steps", [1, 2, 5, 13])
def test_nfe_is_the_number_of_calls(method, grid, steps):
    counter = Counter(EXACT)
    result = du.sample(counter, SCHEDULE, xt_noise(16), method=method, steps=steps, grid=grid,
                       generator=torch.Generator().manual_seed(1))
    assert result.nfe == counter.calls == calls_for(method, steps)
    grid_times = du.time_grid(SCHEDULE, steps, grid).tolist()
    assert set(counter.times) <= set(grid_times[:-1])  # only the grid's times, never t = 0
    assert counter.times[0] == T


def test_trajectory_is_time_major_and_ends_with_the_samples():
    xT = xt_noise(32)
    path = du.sample(EXACT, SCHEDULE, xT, method="dpmpp_2m", steps=9, grid="karras", trajectory=True)
    final = du.sample(EXACT, SCHEDULE, xT, method="dpmpp_2m", steps=9, grid="karras")
    assert path.samples.shape == (10, 32, 1) and path.nfe == final.nfe == 9
    assert torch.equal(path.samples[0], xT) and torch.equal(path.samples[-1], final.samples)


def test_a_module_is_sampled_in_eval_mode_and_restored():
    class Spy(torch.nn.Module):
        T = 1000

        def __init__(self):
            super().__init__()
            self.seen = []

        def forward(self, x, t):
            self.seen.append(self.training)
            return torch.zeros_like(x)

    spy = Spy().train()
    du.sample(spy, SCHEDULE, xt_noise(4), method="heun", steps=3)
    assert spy.seen == [False] * 5 and spy.training


# ---------------------------------------------------------------------------------------------- update rules


def by_hand(method: str, xT: torch.Tensor, steps: int, grid: str, eta: float, seed: int) -> torch.Tensor:
    """The chapter's update rules written out once more, independently of the package; returns the path."""
    gen = torch.Generator().manual_seed(seed)
    times = du.time_grid(SCHEDULE, steps, grid).tolist()
    x, path, prev = xT, [xT], None
    for t, t_next in itertools.pairwise(times):
        ab_t, ab_n = float(AB[t]), float(AB[t_next])
        g_t, g_n = float(GAMMA[t]), float(GAMMA[t_next])
        eps = EXACT(x, torch.full((len(x),), t))
        x0 = (x - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)
        z = None
        if method == "ddpm":
            beta = 1 - ab_t / ab_n
            x = (x - beta / math.sqrt(1 - ab_t) * eps) / math.sqrt(1 - beta)
            if t_next > 0:
                z = torch.randn(x.shape, generator=gen, dtype=x.dtype)
                x = x + math.sqrt(beta * (1 - ab_n) / (1 - ab_t)) * z
        elif method == "ddim":
            var = eta**2 * (1 - ab_n) / (1 - ab_t) * (1 - ab_t / ab_n) if t_next > 0 else 0.0
            x = math.sqrt(ab_n) * x0 + math.sqrt(1 - ab_n - var) * eps
            if var > 0:
                x = x + math.sqrt(var) * torch.randn(x.shape, generator=gen, dtype=x.dtype)
        elif method in ("euler", "heun"):
            d = math.sqrt(ab_t) * eps - g_t * ab_t * x
            pred = x + (g_n - g_t) * d
            if method == "heun" and t_next > 0:
                d2 = math.sqrt(ab_n) * EXACT(pred, torch.full((len(x),), t_next)) - g_n * ab_n * pred
                pred = x + (g_n - g_t) / 2 * (d + d2)
            x = pred
        elif method == "dpmpp_2m":
            if t_next == 0:
                x = x0
            else:
                h = float(LAM[t_next] - LAM[t])
                D = x0
                if prev is not None:
                    r = prev[1] / h
                    D = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * prev[0]
                prev = (x0, h)
                x = math.sqrt((1 - ab_n) / (1 - ab_t)) * x - math.sqrt(ab_n) * math.expm1(-h) * D
        elif method == "euler_maruyama":
            b = math.log(ab_n / ab_t)
            x = x + (x / 2 - eps / math.sqrt(1 - ab_t)) * b
            if t_next > 0:
                x = x + math.sqrt(b) * torch.randn(x.shape, generator=gen, dtype=x.dtype)
        path.append(x)
    return torch.stack(path)


@pytest.mark.parametrize(("method", "eta"), [("ddpm", 0.0), ("ddim", 0.0), ("ddim", 0.6), ("euler", 0.0),
                                             ("heun", 0.0), ("dpmpp_2m", 0.0), ("euler_maruyama", 0.0)])
@pytest.mark.parametrize("grid", du.GRIDS)
def test_update_rules_by_hand(method, eta, grid):
    """Every rule the chapter writes down, step by step against du.sample (same noise draws)."""
    xT = xt_noise(64, seed=2)
    ours = du.sample(EXACT, SCHEDULE, xT, method=method, steps=7, grid=grid, eta=eta,
                     generator=torch.Generator().manual_seed(3), trajectory=True).samples
    torch.testing.assert_close(ours, by_hand(method, xT, 7, grid, eta, seed=3), rtol=1e-10, atol=1e-10)


def test_ddpm_with_all_steps_is_ancestral_sampling():
    xT = xt_noise(500, seed=4)
    ours = du.sample(EXACT, SCHEDULE, xT, method="ddpm", steps=T, generator=torch.Generator().manual_seed(5))
    theirs = du.ancestral_sample(EXACT, SCHEDULE, xT, torch.Generator().manual_seed(5))
    assert ours.nfe == T
    torch.testing.assert_close(ours.samples, theirs, rtol=1e-9, atol=1e-9)
    # the same in the trained network's float32
    s32 = du.NoiseSchedule.linear(T)
    exact32 = du.ExactDenoiser(POINTS.float(), s32)
    ours32 = du.sample(exact32, s32, xT.float(), method="ddpm", steps=T, generator=torch.Generator().manual_seed(5))
    theirs32 = du.ancestral_sample(exact32, s32, xT.float(), torch.Generator().manual_seed(5))
    assert ours32.samples.dtype == torch.float32
    torch.testing.assert_close(ours32.samples, theirs32, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("grid", du.GRIDS)
def test_ddim_with_eta_one_is_ddpm(grid):
    """eta = 1: the posterior variance and mean of the respaced chain, hence the same samples for the same noise."""
    xT = xt_noise(300, seed=6)
    a = du.sample(EXACT, SCHEDULE, xT, method="ddim", eta=1.0, steps=25, grid=grid,
                  generator=torch.Generator().manual_seed(7))
    b = du.sample(EXACT, SCHEDULE, xT, method="ddpm", steps=25, grid=grid, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(a.samples, b.samples, rtol=1e-10, atol=1e-10)
    # and the algebra itself, for every pair of times: variance and coefficients of x_t and x0_hat
    for t, t_next in ((1000, 700), (300, 299), (50, 1)):
        ab_t, ab_n = float(AB[t]), float(AB[t_next])
        beta = 1 - ab_t / ab_n
        var_ddim = (1 - ab_n) / (1 - ab_t) * (1 - ab_t / ab_n)
        assert var_ddim == pytest.approx(beta * (1 - ab_n) / (1 - ab_t), rel=1e-12)
        # DDIM's mean sqrt(ab_n) x0 + sqrt(1 - ab_n - var) eps with eps = (x_t - sqrt(ab_t) x0) / sqrt(1 - ab_t)
        c_eps = math.sqrt(1 - ab_n - var_ddim) / math.sqrt(1 - ab_t)
        coef_xt, coef_x0 = c_eps, math.sqrt(ab_n) - c_eps * math.sqrt(ab_t)
        assert coef_xt == pytest.approx(math.sqrt(1 - beta) * (1 - ab_n) / (1 - ab_t), rel=1e-10)
        assert coef_x0 == pytest.approx(math.sqrt(ab_n) * beta / (1 - ab_t), rel=1e-10)


def test_ddim_eta_zero_is_deterministic_and_ignores_the_generator():
    xT = xt_noise(50)
    a = du.sample(EXACT, SCHEDULE, xT, method="ddim", steps=10, generator=torch.Generator().manual_seed(1))
    b = du.sample(EXACT, SCHEDULE, xT, method="ddim", steps=10, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a.samples, b.samples)


# ---------------------------------------------------------------------------------------------- orders and quality

MIDS = (POINTS[1:, 0] + POINTS[:-1, 0]) / 2


def exact_jumps() -> torch.Tensor:
    """Where the exact flow map's staircase jumps: the quartiles of q_T (bisection on the mixture CDF)."""
    lo, hi = torch.full((3,), -10.0, dtype=torch.float64), torch.full((3,), 10.0, dtype=torch.float64)
    quarters = torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)
    ab = float(AB[T])
    for _ in range(100):
        mid = (lo + hi) / 2
        cdf = torch.special.ndtr((mid[:, None] - math.sqrt(ab) * POINTS[:, 0]) / math.sqrt(1 - ab)).mean(1)
        below = cdf < quarters
        lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
    return (lo + hi) / 2


B_EXACT = exact_jumps()


def solver_jumps(method: str, steps: int, grid: str = "uniform") -> torch.Tensor:
    """Where the solver's map x_T -> x_0 crosses each midpoint: three rounds of 201 points per crossing."""
    left, width = torch.full((3,), -6.0, dtype=torch.float64), 12.0
    u = torch.linspace(0, 1, 201, dtype=torch.float64)
    for _ in range(3):
        z = left[:, None] + width * u
        x0 = du.sample(EXACT, SCHEDULE, z.reshape(-1, 1), method=method, steps=steps, grid=grid).samples.view(3, 201)
        first = (x0 > MIDS[:, None]).double().argmax(1).clamp(min=1)
        left = z.gather(1, (first - 1)[:, None])[:, 0]
        width /= 200
    return left + width / 2


def p_wrong(b: torch.Tensor) -> float:
    return (torch.special.ndtr(b) - torch.special.ndtr(B_EXACT)).abs().sum().item()


def slope(xs, ys) -> float:
    lx, ly = torch.log(torch.tensor(xs, dtype=torch.float64)), torch.log(torch.tensor(ys, dtype=torch.float64))
    lx = lx - lx.mean()
    return float((lx * (ly - ly.mean())).sum() / (lx**2).sum())


def test_the_fine_solve_finds_the_exact_staircase():
    """The reference of the order test: quantile preservation, checked against the finest on-grid solve."""
    assert (solver_jumps("dpmpp_2m", T) - B_EXACT).abs().max() < 1e-5


def test_p_wrong_is_the_share_of_draws_sent_elsewhere():
    xT = xt_noise(20_000, seed=8)
    out = du.sample(EXACT, SCHEDULE, xT, method="euler", steps=16).samples[:, 0]
    frac = (torch.bucketize(xT[:, 0], B_EXACT) != torch.bucketize(out, MIDS)).double().mean().item()
    p = p_wrong(solver_jumps("euler", 16))
    assert abs(frac - p) < 5 * math.sqrt(p * (1 - p) / 20_000)


@pytest.mark.parametrize(("method", "low", "high"), [("euler", -1.3, -0.7), ("ddim", -1.3, -0.7),
                                                     ("heun", -2.4, -1.5), ("dpmpp_2m", -2.4, -1.6)])
def test_ode_solvers_converge_at_their_order(method, low, high):
    """Measured on the uniform grid from 32 to 128 calls (the chapter: -0.96, -1.01, -1.80, -2.02)."""
    nfes, errs = [], []
    for nfe in (32, 64, 128):
        steps = nfe // 2 if method == "heun" else nfe
        nfes.append(calls_for(method, steps))
        errs.append(p_wrong(solver_jumps(method, steps)))
    assert errs[0] > errs[1] > errs[2]
    assert low < slope(nfes, errs) < high


def _floor(n: int, reps: int, gen: torch.Generator) -> tuple[float, float]:
    """Mean W1 of n exact draws to the data distribution, and the two-sample version."""
    one = [du.wasserstein_1d(POINTS[torch.randint(4, (n,), generator=gen), 0], POINTS[:, 0]).item()
           for _ in range(reps)]
    two = [du.wasserstein_1d(POINTS[torch.randint(4, (n,), generator=gen), 0],
                             POINTS[torch.randint(4, (n,), generator=gen), 0]).item() for _ in range(reps)]
    return sum(one) / reps, sum(two) / reps


@pytest.mark.parametrize(("method", "grid"), [("ddpm", "uniform"), ("ddim", "uniform"), ("euler", "uniform"),
                                              ("heun", "karras"), ("dpmpp_2m", "logsnr"),
                                              ("euler_maruyama", "logsnr")])
def test_w1_at_100_calls_is_near_the_floor(method, grid):
    """At about 100 calls every sampler is within 2.5 times the two-sample floor of 4000 samples (about 0.022)."""
    n = 4000
    gen = torch.Generator().manual_seed(9)
    _, two = _floor(n, 50, gen)
    result = du.sample(EXACT, SCHEDULE, xt_noise(n, seed=10), method=method, steps=50 if method == "heun" else 100,
                       grid=grid, generator=gen)
    w1 = du.wasserstein_1d(result.samples[:, 0], POINTS[:, 0]).item()
    assert w1 < 2.5 * two


def test_good_samplers_need_few_calls_and_ddpm_many():
    """The chapter's headline at 4000 samples: DPM-Solver++(2M) on the log-SNR grid at 20 calls is near the floor,
    DDPM at 20 calls far from it."""
    n = 4000
    gen = torch.Generator().manual_seed(11)
    one, _ = _floor(n, 50, gen)
    xT = xt_noise(n, seed=12)
    best = du.sample(EXACT, SCHEDULE, xT, method="dpmpp_2m", steps=20, grid="logsnr")
    ddpm = du.sample(EXACT, SCHEDULE, xT, method="ddpm", steps=20, generator=gen)
    w1 = [du.wasserstein_1d(r.samples[:, 0], POINTS[:, 0]).item() for r in (best, ddpm)]
    assert w1[0] < 2 * one < w1[1] / 2


# ---------------------------------------------------------------------------------------------- bad input


def _call(**overrides):
    kwargs = {"model": EXACT, "schedule": SCHEDULE, "xT": xt_noise(4), "method": "ddim", "steps": 5}
    kwargs.update(overrides)
    model, schedule, xT = kwargs.pop("model"), kwargs.pop("schedule"), kwargs.pop("xT")
    return du.sample(model, schedule, xT, **kwargs)


@pytest.mark.parametrize(("overrides", "error", "match"), [
    ({"method": "rk4"}, ValueError, "method must be one of"),
    ({"steps": 0}, ValueError, r"steps must lie in \[1, 1000\]"),
    ({"steps": 1001}, ValueError, r"steps must lie in \[1, 1000\]"),
    ({"steps": 2.0}, TypeError, "steps must be an int"),
    ({"eta": -0.1}, ValueError, "eta must be >= 0"),
    ({"eta": float("nan")}, TypeError, "eta must be a finite real number"),
    ({"eta": "1"}, TypeError, "eta must be a finite real number"),
    ({"eta": 0.5, "method": "heun"}, ValueError, "eta applies to method='ddim' only"),
    ({"eta": 1.0, "method": "ddpm"}, ValueError, "eta applies to method='ddim' only"),
    ({"grid": "cosine"}, ValueError, "grid must be one of"),
    ({"xT": torch.tensor([[0.0], [float("nan")]], dtype=torch.float64)}, ValueError, "xT must be finite"),
    ({"xT": torch.tensor([[0.0], [float("inf")]], dtype=torch.float64)}, ValueError, "xT must be finite"),
    ({"xT": torch.zeros(4, dtype=torch.float64)}, ValueError, "xT must have 2 dimensions"),
    ({"xT": torch.zeros(4, 1, dtype=torch.long)}, TypeError, "xT must have a floating-point dtype"),
    ({"model": lambda x, t: x[:, :0]}, ValueError, "model must return a noise prediction of x's shape"),
    ({"model": lambda x, t: x[:2]}, ValueError, "model must return a noise prediction of x's shape"),
    ({"model": lambda x, t: 0.0}, ValueError, "model must return a noise prediction of x's shape"),
    ({"model": "not a model"}, TypeError, "model must be callable"),
    ({"model": du.ExactDenoiser(POINTS, du.NoiseSchedule.linear(50, dtype=torch.float64))}, ValueError,
     "model was built for T=50 steps"),
    ({"generator": "seed"}, TypeError, "generator must be a torch.Generator"),
    ({"model": lambda x, t: torch.full_like(x, float("nan"))}, ValueError, "non-finite samples"),
])
def test_bad_input_is_named(overrides, error, match):
    with pytest.raises(error, match=match):
        _call(**overrides)


def test_generator_on_another_device_is_named():
    meta = torch.device("meta")
    schedule = du.NoiseSchedule.linear(T, device=meta)
    with pytest.raises(ValueError, match="generator is on cpu"):
        du.sample(lambda x, t: torch.empty_like(x), schedule, torch.empty(4, 1, device=meta), method="ddpm",
                  steps=5, generator=torch.Generator())


def test_schedule_on_another_device_is_named():
    with pytest.raises(ValueError, match="schedule is on cpu but xT is on meta"):
        du.sample(EXACT, SCHEDULE, torch.empty(4, 1, dtype=torch.float64, device="meta"), method="ddim", steps=5)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"steps": 0}, ValueError, r"steps must lie in \[1, 1000\]"),
    ({"steps": 5, "grid": "linear"}, ValueError, "grid must be one of"),
    ({"steps": 5, "grid": "karras", "rho": 0.0}, ValueError, "rho must be a finite number > 0"),
    ({"steps": 5, "grid": "karras", "rho": "7"}, TypeError, "rho must be a real number"),
])
def test_time_grid_bad_input_is_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        du.time_grid(SCHEDULE, **kwargs)


def test_time_grid_needs_a_schedule():
    with pytest.raises(TypeError, match="schedule must be a NoiseSchedule"):
        du.time_grid("linear", 5)


# ---------------------------------------------------------------------------------------------- devices


@pytest.mark.parametrize("method", du.METHODS)
def test_sampling_on_the_meta_device_leaks_nothing(method):
    """Every tensor a sampler makes stays on the device of xT: on meta, any hidden CPU tensor would fail."""
    meta = torch.device("meta")
    schedule = du.NoiseSchedule.linear(T, device=meta)
    exact = du.ExactDenoiser(torch.empty(4, 1, device=meta), schedule)
    for grid in du.GRIDS:
        out = du.sample(exact, schedule, torch.empty(64, 1, device=meta), method=method, steps=6, grid=grid,
                        trajectory=True)
        assert out.samples.device == meta and out.samples.shape == (7, 64, 1)
        assert out.nfe == calls_for(method, 6)
    model = du.Denoiser(2, T, device=meta)
    out = du.sample(model, schedule, torch.empty(32, 2, device=meta), method=method, steps=4)
    assert out.samples.device == meta and out.samples.shape == (32, 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("method", du.METHODS)
def test_every_sampler_runs_on_cuda_and_matches_the_cpu(method):
    cuda = torch.device("cuda")
    schedule = du.NoiseSchedule.linear(T, dtype=torch.float64, device=cuda)
    exact = du.ExactDenoiser(POINTS.to(cuda), schedule)
    xT = xt_noise(4000, seed=13)
    for grid in du.GRIDS:
        steps = 10 if method == "heun" else 20
        gpu = du.sample(exact, schedule, xT.to(cuda), method=method, steps=steps, grid=grid,
                        generator=torch.Generator(device=cuda).manual_seed(14), trajectory=True)
        cpu = du.sample(EXACT, SCHEDULE, xT, method=method, steps=steps, grid=grid,
                        generator=torch.Generator().manual_seed(14), trajectory=True)
        assert gpu.samples.device.type == "cuda" and gpu.nfe == cpu.nfe
        if method in ODE_METHODS:  # deterministic: the same particles
            torch.testing.assert_close(gpu.samples.cpu(), cpu.samples, rtol=1e-8, atol=1e-8)
        else:  # different noise draws: the same distribution
            w_gpu = du.wasserstein_1d(gpu.samples[-1, :, 0].cpu(), POINTS[:, 0]).item()
            w_cpu = du.wasserstein_1d(cpu.samples[-1, :, 0], POINTS[:, 0]).item()
            assert abs(w_gpu - w_cpu) < 0.05
    # the trained network's float32 on the GPU
    schedule32 = du.NoiseSchedule.linear(T, device=cuda)
    model = du.Denoiser(1, T, device=cuda)
    out = du.sample(model, schedule32, torch.zeros(8, 1, device=cuda), method=method, steps=5,
                    generator=torch.Generator(device=cuda).manual_seed(0))
    assert out.samples.device.type == "cuda" and out.samples.dtype == torch.float32
