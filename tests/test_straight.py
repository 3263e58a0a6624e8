"""Straight paths and few steps: path curvature against closed forms, DDIM = flow-matching Euler (float64), DDIM's
invariance to the schedule between grid points, reflow straightening the paths, the spread explorer headless."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

import diffusion_utils as du
from diffusion_utils.figures import widgets

POINTS = torch.tensor([[-15.0], [-5.0], [1.0], [10.0]], dtype=torch.float64)
POINTS_STD = (POINTS - POINTS.mean()) / POINTS.std(unbiased=False)
MOONS = du.two_moons(64, generator=torch.Generator().manual_seed(0), device="cpu").double()


def _uniform_times(n: int) -> torch.Tensor:
    return torch.linspace(1.0, 0.0, n + 1, dtype=torch.float64)


def test_straight_uniform_path_has_zero_curvature_and_a_straight_uneven_one_does_not():
    tau = _uniform_times(100)
    a, b = torch.tensor([[1.0, -2.0], [0.0, 0.0]], dtype=torch.float64), torch.tensor([[3.0, 1.0], [0.0, 0.0]],
                                                                                    dtype=torch.float64)
    path = b + (1 - tau)[:, None, None] * (a - b)  # tau = 1 at b, tau = 0 at a, uniform speed
    kappa = du.path_curvature(path, tau)
    assert kappa.shape == (2,)
    assert kappa.abs().max().item() < 1e-15  # second particle never moves: 0 by definition
    # The same segment at uneven speed, x = b + (1 - tau)^2 (a - b): deviation (1-tau) - (1-tau)^2, max 1/4 of the chord.
    uneven = b + ((1 - tau) ** 2)[:, None, None] * (a - b)
    assert du.path_curvature(uneven, tau)[0].item() == pytest.approx(0.25, abs=1e-12)


def test_curvature_of_a_parabola_and_of_a_quarter_circle_is_their_closed_form():
    tau = _uniform_times(400)  # contains tau = 1/2, where both deviations peak
    a, b, c = 0.3, 2.3, 1.2  # 1-D: x = (1 - u) a + u b + c u (1 - u), u = 1 - tau; monotone since |c| <= |b - a|
    u = 1 - tau
    x = ((1 - u) * a + u * b + c * u * (1 - u))[:, None, None]
    assert du.path_curvature(x, tau).item() == pytest.approx(abs(c) / (4 * abs(b - a)), rel=1e-12)
    # Quarter circle at constant angular speed: deviation 1 - 1/sqrt(2) at tau = 1/2, length pi/2.
    theta = math.pi / 2 * u
    circle = torch.stack([torch.cos(theta), torch.sin(theta)], dim=-1)[:, None, :]
    expected = (1 - 1 / math.sqrt(2)) / (math.pi / 2)
    assert du.path_curvature(circle, tau).item() == pytest.approx(expected, rel=1e-5)  # polyline length: O(h^2)
    # The clock's direction does not matter.
    assert du.path_curvature(circle.flip(0), tau.flip(0)).item() == pytest.approx(expected, rel=1e-5)


def test_single_point_data_linear_path_is_straight_and_the_vp_path_is_not():
    """Spread 0: z_t = t x_1 exactly (kappa 0); the VP path z_t / nu_t has kappa = max_t t (1/nu_t - 1) for every x_1."""
    x1 = torch.randn(50, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    frame = du.straight_frame(POINTS_STD, 0.0, x1, steps=400, num_paths=5)
    t = torch.linspace(0, 1, 100_001, dtype=torch.float64)
    closed = (t * (1 / torch.sqrt((1 - t) ** 2 + t**2) - 1)).max().item()
    assert frame.kappa_linear < 1e-12
    assert frame.kappa_vp == pytest.approx(closed, abs=2e-4)  # grid max vs the continuous max
    assert frame.linear.shape == frame.vp.shape == (401, 5)


def test_vp_probability_flow_path_is_the_interpolant_path_rescaled():
    """du.sample's Heun (VP, exact denoiser) and integrate_flow's Heun (interpolant) meet at the same noise levels."""
    schedule = du.NoiseSchedule.linear(1000, dtype=torch.float64)
    xT = torch.randn(200, 1, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    grid = du.time_grid(schedule, 400, "karras")
    vp = du.sample(du.ExactDenoiser(POINTS_STD, schedule), schedule, xT, method="heun", steps=400, grid="karras",
                   trajectory=True).samples
    ab = du.alpha_bars64(schedule)
    z0, t0 = du.vp_to_interpolant(xT, ab[1000].item())
    times = du.schedule_flow_times(schedule, grid)
    assert torch.allclose(t0, torch.full_like(t0, times[0].item()), rtol=0, atol=1e-15)
    z = du.integrate_flow(du.ExactVelocity(POINTS_STD), z0, times, method="heun", trajectory=True).samples
    for k in (0, 100, 200, 300, 400):
        back = du.interpolant_to_vp(z[k], times[k].item())
        assert (back - vp[k]).abs().max().item() < 2e-3, k


@pytest.mark.parametrize("grid", du.GRIDS)
@pytest.mark.parametrize("data", [POINTS_STD, MOONS], ids=["1d", "moons"])
def test_ddim_is_flow_matching_euler_in_float64(grid, data):
    """DDIM(eta=0) from x_T equals Euler on z = nu_t x with the exact velocity on the grid t_k = gamma_k / (1 + gamma_k)."""
    schedule = du.NoiseSchedule.linear(1000, dtype=torch.float64)
    xT = torch.randn(300, data.shape[1], generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    ddim = du.sample(du.ExactDenoiser(data, schedule), schedule, xT, method="ddim", steps=12, grid=grid,
                     trajectory=True)
    times = du.schedule_flow_times(schedule, du.time_grid(schedule, 12, grid))
    z0, _ = du.vp_to_interpolant(xT, du.alpha_bars64(schedule)[-1].item())
    flow = du.integrate_flow(du.ExactVelocity(data), z0, times, method="euler", trajectory=True)
    assert flow.nfe == ddim.nfe == 12
    for k in range(13):
        back = du.interpolant_to_vp(flow.samples[k], times[k].item())
        torch.testing.assert_close(back, ddim.samples[k], rtol=1e-11, atol=1e-11)


def test_ddim_is_flow_matching_euler_for_any_noise_predictor():
    """The identity is algebra: it holds for an arbitrary smooth eps(x, alpha_bar), not only the exact one."""
    schedule = du.NoiseSchedule.linear(1000, dtype=torch.float64)
    ab = du.alpha_bars64(schedule)
    w = torch.tensor([[0.7, -1.3], [2.1, 0.4]], dtype=torch.float64)

    def eps(x, alpha_bar):
        return torch.sin(x @ w + 3 * alpha_bar[:, None]) + 0.5 * x

    def model(x, t):  # integer times, as du.sample calls it
        return eps(x, ab[t])

    def velocity(z, t):  # the same predictor as a velocity of the interpolant
        x = du.interpolant_to_vp(z, t)
        return du.eps_to_velocity(eps(x, du.interpolant_alpha_bar(t)), z, t)

    xT = torch.randn(100, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    ddim = du.sample(model, schedule, xT, method="ddim", steps=9, grid="logsnr").samples
    times = du.schedule_flow_times(schedule, du.time_grid(schedule, 9, "logsnr"))
    z0, _ = du.vp_to_interpolant(xT, ab[-1].item())
    flow = du.integrate_flow(velocity, z0, times).samples
    torch.testing.assert_close(flow, ddim, rtol=1e-11, atol=1e-11)


def _exact_eps(data):
    def eps(x, alpha_bar):
        ab = alpha_bar[:, None]
        return (x - ab.sqrt() * du.mixture_denoiser(x, data, alpha_bar)) / (1 - ab).sqrt()

    return eps


def test_ddim_reads_the_schedule_only_on_its_grid_and_clock_euler_depends_on_the_clock():
    schedule = du.NoiseSchedule.linear(1000, dtype=torch.float64)
    grid = du.time_grid(schedule, 10, "logsnr")
    ab = du.alpha_bars64(schedule)[grid]
    # A schedule with T = 10 whose alpha_bar_k is the long schedule's at the grid's k-th time: the same gamma grid.
    short = du.NoiseSchedule(torch.cat([torch.zeros(1, dtype=torch.float64), 1 - ab.flip(0)[1:] / ab.flip(0)[:-1]]))
    torch.testing.assert_close(du.alpha_bars64(short).flip(0), ab, rtol=1e-14, atol=0)
    xT = torch.randn(500, 1, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    long_run = du.sample(du.ExactDenoiser(POINTS_STD, schedule), schedule, xT, method="ddim", steps=10, grid="logsnr")
    short_run = du.sample(du.ExactDenoiser(POINTS_STD, short), short, xT, method="ddim", steps=10, grid="uniform")
    assert (long_run.samples - short_run.samples).abs().max().item() < 1e-12
    # Euler in x with the clock gamma is du.sample's "euler"; other clocks give other samples from the same grid.
    gammas = ((1 - ab) / ab).sqrt()
    eps = _exact_eps(POINTS_STD)
    by_clock = {c: du.clock_euler(eps, xT, gammas, clock=c).samples for c in du.CLOCKS}
    karras = du.sample(du.ExactDenoiser(POINTS_STD, schedule), schedule, xT, method="euler", steps=10, grid="logsnr")
    torch.testing.assert_close(by_clock["gamma"], karras.samples, rtol=1e-11, atol=1e-11)
    exact = du.ode_limit_1d(xT, POINTS_STD[:, 0], du.alpha_bars64(schedule)[-1].item())
    errors = {c: (x[:, 0] - exact).abs().mean().item() for c, x in by_clock.items()}
    assert max(errors.values()) > 1.5 * min(errors.values()), errors  # not only other samples: other accuracy
    for a, b in [("gamma", "interpolant"), ("gamma", "cosine"), ("interpolant", "cosine")]:
        assert (by_clock[a] - by_clock[b]).abs().max().item() > 5e-4, (a, b)


@pytest.mark.parametrize("method", ["euler", "heun"])
def test_integrate_flow_steps_match_their_closed_form_and_leave_the_input_alone(method):
    """v(z, t) = z returns its input: Heun must add the slopes out of place (z and the path stay untouched).

    Per step h = t' - t < 0 the exact factor is e^h; Euler multiplies by 1 + h, Heun by 1 + h + h^2 / 2 (Euler on
    the last step, to t = 0)."""
    z = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64)
    keep = z.clone()
    times = torch.tensor([1.0, 0.6, 0.25, 0.0], dtype=torch.float64)
    out = du.integrate_flow(lambda x, t: x, z, times, method=method, trajectory=True)
    torch.testing.assert_close(z, keep, rtol=0, atol=0)
    factor = 1.0
    for k in range(3):
        h = (times[k + 1] - times[k]).item()
        factor *= 1 + h + (h * h / 2 if method == "heun" and k < 2 else 0.0)
        torch.testing.assert_close(out.samples[k + 1], factor * keep, rtol=1e-15, atol=0)
    torch.testing.assert_close(out.samples[0], keep, rtol=0, atol=0)
    assert out.nfe == (5 if method == "heun" else 3)


def test_reflow_of_the_exact_flow_lowers_the_measured_curvature():
    """Pairs (x_1, x_0) from the exact flow of two points in the plane; a small net trained on them has straighter paths."""
    torch.manual_seed(0)
    data = torch.tensor([[-1.5, 0.0], [1.5, 0.0]])
    gen = torch.Generator().manual_seed(6)
    x1 = torch.randn(1000, 2, generator=gen)
    exact = du.ExactVelocity(data)
    x0 = du.reflow_pairs(exact, x1, steps=40)
    assert x0.shape == x1.shape and torch.isfinite(x0).all()
    net = du.VelocityNet(2, hidden=32, generator=torch.Generator().manual_seed(0))
    du.train_velocity(net, x0, noise=x1, steps=250, batch_size=128, lr=5e-3, generator=gen, progress=False)
    test_x1 = torch.randn(300, 2, generator=torch.Generator().manual_seed(7))
    times = du.flow_time_grid(40)
    before = du.path_curvature(du.integrate_flow(exact, test_x1, times, method="heun", trajectory=True).samples, times)
    after = du.path_curvature(du.integrate_flow(net, test_x1, times, method="heun", trajectory=True).samples, times)
    assert after.median().item() < 0.5 * before.median().item(), (before.median().item(), after.median().item())


def test_conversions_round_trip_and_bad_inputs_name_the_argument():
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    ab = torch.rand(20, generator=torch.Generator().manual_seed(9), dtype=torch.float64) * 0.98 + 0.01
    z, t = du.vp_to_interpolant(x, ab)
    torch.testing.assert_close(du.interpolant_alpha_bar(t), ab, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(du.interpolant_to_vp(z, t), x, rtol=1e-13, atol=1e-14)
    with pytest.raises(ValueError, match="times must have one entry"):
        du.path_curvature(torch.zeros(5, 3, 1), torch.linspace(1, 0, 4))
    with pytest.raises(ValueError, match="times must be strictly monotone"):
        du.path_curvature(torch.zeros(3, 3, 1), torch.tensor([1.0, 0.0, 0.5]))
    with pytest.raises(ValueError, match="path must hold at least two"):
        du.path_curvature(torch.zeros(1, 3, 1), torch.tensor([1.0]))
    with pytest.raises(ValueError, match="t must lie in"):
        du.interpolant_to_vp(x, 1.5)
    with pytest.raises(ValueError, match="alpha_bar must lie in"):
        du.vp_to_interpolant(x, -0.1)
    with pytest.raises(ValueError, match="times must hold at least two values, strictly decreasing"):
        du.integrate_flow(du.ExactVelocity(MOONS), x, torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="method must be"):
        du.integrate_flow(du.ExactVelocity(MOONS), x, torch.tensor([1.0, 0.0]), method="rk4")
    with pytest.raises(ValueError, match="clock must be one of"):
        du.clock_euler(_exact_eps(POINTS_STD), x[:, :1], torch.tensor([2.0, 0.0]), clock="linear")
    with pytest.raises(TypeError, match="times must be integer times"):
        du.schedule_flow_times(du.NoiseSchedule.linear(10), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="spread must be"):
        du.straight_frame(POINTS_STD, -1.0, x[:, :1])
    with pytest.raises(ValueError, match="num_pairs"):
        du.train_reflow_moons("cpu", num_pairs=1)


def test_sliced_w1_is_du_sliced_wasserstein_and_nfe_to_reach_takes_the_last_crossing():
    gen = torch.Generator().manual_seed(12)
    reference, samples = torch.randn(300, 2, generator=gen), torch.randn(300, 2, generator=gen) * 1.3
    sw = du.SlicedW1(reference, 40, generator=torch.Generator().manual_seed(13))
    slow = du.sliced_wasserstein(samples, reference, 40, generator=torch.Generator().manual_seed(13)).item()
    assert sw(samples) == pytest.approx(slow, rel=1e-12)
    assert sw(reference) == 0.0
    with pytest.raises(ValueError, match="samples must have the reference's shape"):
        sw(samples[:10])
    tried = [(1, 0.5), (2, 0.09), (4, 0.12), (8, 0.05), (16, 0.04)]
    assert du.nfe_to_reach(tried, 0.1) == 8  # 2 dips below, 4 comes back above: from 8 on it stays
    assert du.nfe_to_reach(tried, 0.6) == 1
    assert du.nfe_to_reach(tried, 0.01) is None


def test_meta_device_leaks_nothing():
    meta = torch.device("meta")
    path = torch.empty(11, 32, 2, device=meta)
    assert du.path_curvature(path, torch.linspace(1, 0, 11, device=meta)).device == meta
    z = torch.empty(32, 2, device=meta)
    out = du.integrate_flow(lambda x, t: torch.empty_like(x), z, du.flow_time_grid(5), method="heun", trajectory=True)
    assert out.samples.device == meta and out.samples.shape == (6, 32, 2) and out.nfe == 9
    x, t = du.vp_to_interpolant(z, torch.full((32,), 0.5, device=meta))
    assert x.device == t.device == meta
    assert du.interpolant_to_vp(z, 0.3).device == meta
    res = du.clock_euler(lambda x, ab: torch.empty_like(x), z, torch.tensor([3.0, 1.0, 0.0]), clock="cosine")
    assert res.samples.device == meta and res.nfe == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_ddim_is_flow_matching_euler_on_cuda_and_matches_the_cpu():
    cuda = torch.device("cuda")
    schedule = du.NoiseSchedule.linear(1000, dtype=torch.float64, device=cuda)
    data = MOONS.to(cuda)
    xT = torch.randn(300, 2, generator=torch.Generator(device=cuda).manual_seed(3), dtype=torch.float64, device=cuda)
    ddim = du.sample(du.ExactDenoiser(data, schedule), schedule, xT, method="ddim", steps=12, grid="karras").samples
    times = du.schedule_flow_times(schedule, du.time_grid(schedule, 12, "karras"))
    z0, _ = du.vp_to_interpolant(xT, du.alpha_bars64(schedule)[-1].item())
    path = du.integrate_flow(du.ExactVelocity(data), z0, times, trajectory=True).samples
    assert path.device.type == "cuda"
    torch.testing.assert_close(path[-1], ddim, rtol=1e-11, atol=1e-11)
    kappa = du.path_curvature(path, times.to(cuda))
    torch.testing.assert_close(kappa.cpu(), du.path_curvature(path.cpu(), times), rtol=1e-12, atol=1e-12)


def test_straight_explorer_headless():
    assert "straight_explorer" in widgets.__all__  # tests/live_lab.py finds explorers by this name
    x1 = torch.randn(40, 1, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    box = widgets.straight_explorer(POINTS_STD, x1, (0.0, 1.0, 4.0), spread=0.0, steps=40, num_paths=4)
    artists = box.artists
    line = artists.paths[0][0]
    assert set(box.frames) == {0.0}
    zero = box.frames[0.0]
    assert zero.kappa_linear < 1e-12 < zero.kappa_vp
    box.controls["spread"].value = 4.0  # integrates the new spread once, redraws the same artists
    assert set(box.frames) == {0.0, 4.0}
    assert artists.paths[0][0] is line
    assert artists.suptitle.get_text() == "data spread ζ = 4"
    assert f"{box.frames[4.0].kappa_linear:.3f}" in artists.titles[0].get_text()
    assert artists.titles[1].get_text().startswith(r"VP flow $x_t / \nu_t$")  # TeX, not the letters "nu"
    assert line.get_ydata()[-1] == pytest.approx(box.frames[4.0].linear[-1, 0])
    with pytest.raises(ValueError, match="spread must be one of"):
        widgets.straight_explorer(POINTS_STD, x1, (0.0, 1.0), spread=2.0)
    plt.close("all")


def test_update_straight_and_animation_use_existing_artists():
    x1 = torch.randn(30, 1, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    frames = [du.straight_frame(POINTS_STD, a, x1, steps=30, num_paths=3) for a in (0.5, 2.0)]
    artists = du.straight_figure(5, figsize=(6, 3))
    before = [list(p) for p in artists.paths]
    du.update_straight(artists, frames[1])
    assert [list(p) for p in artists.paths] == before
    assert [line.get_visible() for line in artists.paths[1]] == [True, True, True, False, False]
    anim = du.straight_animation(frames, artists)
    anim._func(0)
    anim._draw_was_started = True  # drawn by hand above: no "deleted without rendering" warning
    assert artists.suptitle.get_text() == "data spread ζ = 0.5"
    with pytest.raises(TypeError, match="frame must be a StraightFrame"):
        du.update_straight(artists, "frame")
    with pytest.raises(ValueError, match="frames must hold"):
        du.straight_animation([], artists)
    plt.close("all")
