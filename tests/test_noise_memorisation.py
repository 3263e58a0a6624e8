"""Claims of the chapters 'Noise, determinism and where the chain starts' and 'Memorisation', and their package code:
the ODE plateau from a mismatched start, DDIM's eta keeping the marginals, nearest-training-point distances, the
exact denoiser's copies, small training runs, and the eta explorer (headless)."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import diffusion_utils as du
from diffusion_utils.core import memorisation
from diffusion_utils.figures.widgets import eta_explorer

SCHEDULE = du.NoiseSchedule.linear(1000, dtype=torch.float64)
AB_T = SCHEDULE.alpha_bars[-1].item()
RAW = torch.tensor(du.DATASET, dtype=torch.float64)
SCALER = du.DataScaler.fit(RAW)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def quantiles(n: int) -> torch.Tensor:
    return (torch.arange(n, dtype=torch.float64) + 0.5) / n


def qT_quantile(levels: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Quantiles of the mixture q_T of the points, by bisection."""
    low, high = torch.full_like(levels, -50.0), torch.full_like(levels, 50.0)
    for _ in range(100):
        mid = (low + high) / 2
        below = torch.special.ndtr((mid[:, None] - math.sqrt(AB_T) * points) / math.sqrt(1 - AB_T)).mean(1) < levels
        low, high = torch.where(below, mid, low), torch.where(below, high, mid)
    return (low + high) / 2


def perfect_two_sample_w1(size: int, reps: int = 100) -> float:
    """Mean W1 between two sets of `size` perfect samples of the four points."""
    g = torch.Generator().manual_seed(0)
    uniform = torch.full((4,), 0.25, dtype=torch.float64)
    out = []
    for _ in range(reps):
        a, b = (torch.bincount(torch.multinomial(uniform, size, True, generator=g), minlength=4).double()
                for _ in range(2))
        out.append(du.wasserstein_1d(RAW, RAW, a, b).item())
    return sum(out) / reps


# --- chapter 'Noise, determinism and where the chain starts' ---------------------------------------------------------


def test_ode_from_a_standard_normal_plateaus_on_raw_data():
    """From N(0, 1) every ODE solver stays above the exact limit W1 = 0.121 however many steps it takes."""
    exact = du.ExactDenoiser(RAW[:, None], SCHEDULE)
    xT = torch.special.ndtri(quantiles(500))[:, None]
    resolution = (RAW.max() - RAW.min()).item() / 500
    for method, steps in (("dpmpp_2m", 50), ("dpmpp_2m", 200), ("ddim", 300), ("heun", 150)):
        w1 = du.wasserstein_1d(du.sample(exact, SCHEDULE, xT, method=method, steps=steps).samples[:, 0], RAW).item()
        assert w1 > 0.12 - resolution, (method, steps, w1)
    # the exact limit: N(0, 1) mass below the boundaries of the quartiles of q_T
    below = torch.special.ndtr(qT_quantile(torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64), RAW))
    limit = ((below - torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)).abs() * torch.diff(RAW)).sum().item()
    assert 0.115 < limit < 0.125


def test_ode_from_the_exact_qT_has_no_plateau():
    exact = du.ExactDenoiser(RAW[:, None], SCHEDULE)
    xq = qT_quantile(quantiles(500), RAW)[:, None]
    w1 = du.wasserstein_1d(du.sample(exact, SCHEDULE, xq, method="dpmpp_2m", steps=200).samples[:, 0], RAW).item()
    assert w1 < 0.02
    # random draws of q_T: below three times the two-sample floor of as many perfect samples
    g = torch.Generator().manual_seed(1)
    n = 2000
    draws = math.sqrt(AB_T) * RAW[torch.randint(4, (n,), generator=g)] + math.sqrt(1 - AB_T) * torch.randn(
        n, generator=g, dtype=torch.float64)
    out = du.sample(exact, SCHEDULE, draws[:, None], method="dpmpp_2m", steps=100).samples[:, 0]
    assert du.wasserstein_1d(out, RAW).item() < 3 * perfect_two_sample_w1(n)


def test_ddpm_forgets_most_of_the_start():
    """Coupled runs (same noise) from N(0, 1) and from q_T: DDPM keeps a small fraction of the ODE's imprint."""
    exact = du.ExactDenoiser(RAW[:, None], SCHEDULE)
    levels = quantiles(1000)
    starts = (torch.special.ndtri(levels)[:, None], qT_quantile(levels, RAW)[:, None])
    imprint = {}
    for method in ("ddim", "ddpm"):
        ends = [du.sample(exact, SCHEDULE, x, method=method, steps=100,
                          generator=torch.Generator().manual_seed(2)).samples[:, 0] for x in starts]
        imprint[method] = (ends[0] - ends[1]).mean().item()
    assert imprint["ddim"] > 0.1
    assert abs(imprint["ddpm"]) < 0.3 * imprint["ddim"]


def test_ddim_eta_keeps_the_marginals():
    """Standardised data, exact denoiser, 200 steps: eta = 0 and eta = 1 samples agree within the two-sample floor."""
    exact = du.ExactDenoiser(SCALER.encode(RAW)[:, None], SCHEDULE)
    n = 2000
    xT = torch.randn(n, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    sweep = du.EtaSweep.simulate(exact, SCHEDULE, xT, (0.0, 1.0), steps=200, seed=4, scaler=SCALER)
    a, b = (torch.from_numpy(sweep.frame(e)[1]) for e in (0.0, 1.0))
    assert du.wasserstein_1d(a, b).item() < 3 * perfect_two_sample_w1(n)
    moved = ((a[:, None] - RAW).abs().argmin(1) != (b[:, None] - RAW).abs().argmin(1)).double().mean().item()
    assert moved > 0.3, "the paths change although the marginals do not"
    assert sweep.paths.shape == (2, 201, 20) and sweep.samples.shape == (2, n)
    np.testing.assert_array_equal(sweep.times, du.time_grid(SCHEDULE, 200).numpy())


def test_eta_sweep_is_deterministic_at_eta_zero_and_seeded_otherwise():
    exact = du.ExactDenoiser(SCALER.encode(RAW)[:, None], SCHEDULE)
    xT = torch.randn(50, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    one = du.EtaSweep.simulate(exact, SCHEDULE, xT, (0.0, 0.5), steps=20, seed=1, num_paths=5)
    two = du.EtaSweep.simulate(exact, SCHEDULE, xT, (0.0, 0.5), steps=20, seed=2, num_paths=5)
    np.testing.assert_array_equal(one.frame(0.0)[0], two.frame(0.0)[0])
    assert not np.array_equal(one.frame(0.5)[0], two.frame(0.5)[0])
    again = du.EtaSweep.simulate(exact, SCHEDULE, xT, (0.5,), steps=20, seed=1, num_paths=5)
    np.testing.assert_array_equal(again.frame(0.5)[1], one.frame(0.5)[1])


def test_eta_figure_callback_updates_existing_artists_only():
    exact = du.ExactDenoiser(SCALER.encode(RAW)[:, None], SCHEDULE)
    xT = torch.randn(300, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    sweep = du.EtaSweep.simulate(exact, SCHEDULE, xT, (0.0, 1.0), steps=20, seed=0, num_paths=8, scaler=SCALER)
    edges = np.arange(-30.5, 26.0, 1.0)
    artists = du.eta_figure(sweep.times, edges, du.DATASET, num_paths=8)
    children = len(artists.ax_paths.get_children()), len(artists.ax_hist.get_children())
    for k, eta in enumerate(sweep.etas):
        du.update_eta(artists, sweep.paths[k], sweep.samples[k], eta)
        assert (len(artists.ax_paths.get_children()), len(artists.ax_hist.get_children())) == children
        np.testing.assert_allclose(artists.lines[3].get_ydata(), sweep.paths[k][:, 3])
        shares = artists.bars.get_data().values
        np.testing.assert_allclose(shares, np.histogram(sweep.samples[k], bins=edges)[0] / 300)
        assert math.isclose(shares.sum(), 1.0)
    assert artists.title.get_text() == "η = 1: DDPM's noise"
    du.update_eta(artists, sweep.paths[0][:, :3], sweep.samples[0], 0.0)  # fewer paths: the rest are hidden
    assert [line.get_visible() for line in artists.lines] == [True] * 3 + [False] * 5
    assert artists.title.get_text() == "η = 0: deterministic (DDIM)"
    artists.fig.set_dpi(30)
    html = du.eta_animation(sweep, artists).to_jshtml()
    assert html.count("data:image/png;base64") == 2
    artists.fig.canvas.draw()


def test_eta_explorer_builds_and_responds_headless():
    exact = du.ExactDenoiser(SCALER.encode(RAW)[:, None], SCHEDULE)
    xT = torch.randn(200, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    box = eta_explorer(exact, SCHEDULE, xT, du.DATASET, steps=20, seed=1, num_paths=6, scaler=SCALER)
    slider = box.controls["eta"]
    assert slider.min == 0.0 and slider.max == 1.0 and slider.value == 0.0
    slider.value = 0.0 + 0.1  # triggers the callback
    first = [line.get_ydata().copy() for line in box.artists.lines]
    slider.value = 1.0
    assert box.artists.title.get_text() == "η = 1: DDPM's noise"
    assert not all(np.array_equal(a, line.get_ydata()) for a, line in zip(first, box.artists.lines))
    assert set(box.runs) == {0.0, 0.1, 1.0}
    np.testing.assert_allclose(box.artists.bars.get_data().values.sum(), 1.0)
    # the - button moves eta down one step and redraws from the kept run
    minus = box.children[0].children[1]
    minus.click()
    assert slider.value == 0.9 and box.artists.title.get_text() == "η = 0.9: part of DDPM's noise"


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda e: du.EtaSweep.simulate(e, SCHEDULE, torch.zeros(5, 2, dtype=torch.float64), (0.0,), steps=5),
     ValueError, r"xT must have shape \(N, 1\)"),
    (lambda e: du.EtaSweep.simulate(e, SCHEDULE, torch.zeros(5, 1, dtype=torch.float64), (), steps=5),
     TypeError, "etas must be a non-empty sequence"),
    (lambda e: du.EtaSweep.simulate(e, SCHEDULE, torch.zeros(5, 1, dtype=torch.float64), (1.5,), steps=5),
     ValueError, r"etas must lie in \[0, 1\]"),
    (lambda e: du.EtaSweep.simulate(e, SCHEDULE, torch.zeros(5, 1, dtype=torch.float64), (True,), steps=5),
     TypeError, "etas must hold finite real numbers"),
    (lambda e: du.EtaSweep.simulate(e, SCHEDULE, torch.zeros(5, 1, dtype=torch.float64), (0.0,), steps=5,
                                    num_paths=6), ValueError, r"num_paths must lie in \[1, 5\]"),
    (lambda e: du.EtaSweep.simulate(e, SCHEDULE, torch.zeros(5, 1, dtype=torch.float64), (0.0,), steps=0),
     ValueError, r"steps must lie in \[1, 1000\]"),
])
def test_eta_sweep_rejects_bad_input(call, error, match):
    exact = du.ExactDenoiser(SCALER.encode(RAW)[:, None], SCHEDULE)
    with pytest.raises(error, match=match):
        call(exact)


def test_eta_figure_and_frame_reject_bad_input():
    exact = du.ExactDenoiser(SCALER.encode(RAW)[:, None], SCHEDULE)
    sweep = du.EtaSweep.simulate(exact, SCHEDULE, torch.zeros(10, 1, dtype=torch.float64), (0.0,), steps=5,
                                 num_paths=4)
    with pytest.raises(ValueError, match=r"eta must be one of the sweep's values \(0.0,\)"):
        sweep.frame(0.5)
    artists = du.eta_figure(sweep.times, np.arange(-3.5, 4.0), du.DATASET, num_paths=2)
    with pytest.raises(ValueError, match=r"paths must have shape \(steps\+1, P\) with P <= 2"):
        du.update_eta(artists, sweep.paths[0], sweep.samples[0], 0.0)
    with pytest.raises(ValueError, match="samples must hold at least one particle"):
        du.update_eta(artists, sweep.paths[0][:, :2], np.zeros(0), 0.0)
    with pytest.raises(ValueError, match="times, edges and points must be 1-D"):
        du.eta_figure(sweep.times, np.zeros(1), du.DATASET)


# --- chapter 'Memorisation' ------------------------------------------------------------------------------------------


def brute_force(x: torch.Tensor, train: torch.Tensor) -> tuple[list[float], list[int]]:
    dist, index = [], []
    for row in x.tolist():
        best = min(range(len(train)), key=lambda j: sum((a - b) ** 2 for a, b in zip(row, train[j].tolist())))
        index.append(best)
        dist.append(math.sqrt(sum((a - b) ** 2 for a, b in zip(row, train[best].tolist()))))
    return dist, index


@pytest.mark.parametrize("block", [2**22, 7])  # one chunk, and many chunks of one row
def test_nearest_distance_matches_brute_force(monkeypatch, block):
    monkeypatch.setattr(memorisation, "_BLOCK_ELEMENTS", block)
    g = torch.Generator().manual_seed(0)
    x, train = torch.randn(53, 3, generator=g), torch.randn(37, 3, generator=g)
    x[5] = train[11]                                      # a sample on a training point: distance exactly 0
    dist, index = du.nearest_distance(x, train)
    want_dist, want_index = brute_force(x.double(), train.double())
    assert dist.dtype == torch.float64 and index.dtype == torch.long and dist.shape == index.shape == (53,)
    np.testing.assert_allclose(dist.numpy(), want_dist, rtol=1e-12, atol=1e-12)
    assert index.tolist() == want_index
    assert dist[5].item() == 0.0 and index[5].item() == 11
    empty_d, empty_i = du.nearest_distance(torch.zeros(0, 3), train)
    assert empty_d.shape == empty_i.shape == (0,)


def test_memorised_fraction_counts_within_the_radius():
    train = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    x = torch.tensor([[0.0, 0.25], [1.0, 0.5], [0.5, 0.0], [3.0, 0.0]])
    assert du.memorised_fraction(x, train, 0.25).item() == 0.25       # the boundary counts
    assert du.memorised_fraction(x, train, 0.5).item() == 0.75
    assert du.memorised_fraction(x, train, 2.0).item() == 1.0


def test_exact_denoiser_memorises_every_sample():
    """The exact denoiser's samples land on training points (Karras grid, last step from t = 1); fresh data do not."""
    g = torch.Generator().manual_seed(1)
    for k, radius in ((16, 1e-9), (64, 0.03)):  # 64 points include close pairs that the last step (t = 1) averages
        data = du.two_moons(k, generator=torch.Generator().manual_seed(k), device="cpu").double()
        scaler = du.DataScaler.fit(data)
        model = du.ExactDenoiser(scaler.encode(data), SCHEDULE)
        xT = torch.randn(300, 2, dtype=torch.float64, generator=g)
        out = scaler.decode(du.sample(model, SCHEDULE, xT, method="dpmpp_2m", steps=50, grid="karras").samples)
        assert du.memorised_fraction(out, data, radius).item() == 1.0
        fresh = du.two_moons(300, generator=g, device="cpu")
        assert du.memorised_fraction(fresh, data, 0.03).item() < 0.2


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: du.nearest_distance(torch.zeros(3, 2), torch.zeros(4, 3)), ValueError, "same dimension d"),
    (lambda: du.nearest_distance(torch.zeros(3, 2), torch.zeros(0, 2)), ValueError, "train must hold at least one"),
    (lambda: du.nearest_distance(torch.zeros(3, 2, dtype=torch.long), torch.zeros(4, 2)), TypeError,
     "x must have a floating-point dtype"),
    (lambda: du.nearest_distance(torch.zeros(3), torch.zeros(4, 1)), ValueError, "x must have 2 dimensions"),
    (lambda: du.nearest_distance([[0.0]], torch.zeros(4, 1)), TypeError, "x must be a torch.Tensor"),
    (lambda: du.nearest_distance(torch.zeros(3, 1), torch.zeros(4, 1, device="meta")), ValueError,
     "train is on meta but x is on cpu"),
    (lambda: du.memorised_fraction(torch.zeros(3, 1), torch.zeros(4, 1), 0.0), ValueError,
     "radius must be a finite number > 0"),
    (lambda: du.memorised_fraction(torch.zeros(3, 1), torch.zeros(4, 1), "0.1"), TypeError,
     "radius must be a real number"),
    (lambda: du.memorised_fraction(torch.zeros(0, 1), torch.zeros(4, 1), 0.1), ValueError,
     "x must hold at least one sample"),
    (lambda: du.train_on_points(torch.zeros(1, 2), steps=5), ValueError, "data must hold at least two points"),
    (lambda: du.train_on_points(torch.randn(4, 2), steps=0), ValueError, r"steps must lie in \[1, inf\)"),
    (lambda: du.train_on_points(torch.randn(4, 2), steps=1, hidden=0), ValueError, r"hidden must lie in \[1, inf\)"),
    (lambda: du.train_on_points(torch.randn(4, 2), steps=1, progress="yes"), TypeError,
     "progress must be True or False"),
    (lambda: du.train_on_points(torch.randn(4, 2), steps=1, start="model"), TypeError,
     "start must be a TrainedModel"),
])
def test_memorisation_functions_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_train_on_points_trains_and_continues_a_copy():
    g = torch.Generator().manual_seed(2)
    data = du.two_moons(16, generator=g, device="cpu")
    first = du.train_on_points(data, steps=6, hidden=16, depth=2, batch_size=8, seed=3)
    assert first.losses.shape == (6,) and first.model.T == first.schedule.T == 1000
    assert first.data is data and math.isclose(first.scaler.scale, du.DataScaler.fit(data).scale)
    again = du.train_on_points(data, steps=6, hidden=16, depth=2, batch_size=8, seed=3)
    torch.testing.assert_close(again.losses, first.losses)                 # seeded
    before = [p.detach().clone() for p in first.model.parameters()]
    more = du.train_on_points(data, steps=4, hidden=16, depth=2, batch_size=8, seed=3, start=first)
    assert more.losses.shape == (10,) and torch.equal(more.losses[:6], first.losses)
    assert all(torch.equal(a, b) for a, b in zip(before, first.model.parameters())), "start is left unchanged"
    assert any(not torch.equal(a, b) for a, b in zip(before, more.model.parameters()))
    assert more.scaler == first.scaler and more.schedule is first.schedule
    with pytest.raises(ValueError, match="start was trained on other data"):
        du.train_on_points(data[:8], steps=1, start=first)


def test_memorisation_runs_on_the_meta_device():
    """Device-leak test without a GPU: any hidden CPU tensor would fail on the meta device."""
    meta = torch.device("meta")
    x, train = torch.empty(1000, 2, device=meta), torch.empty(300, 2, device=meta)
    dist, index = du.nearest_distance(x, train)
    assert dist.device == index.device == meta and dist.shape == index.shape == (1000,)
    assert dist.dtype == torch.float64 and index.dtype == torch.long
    share = du.memorised_fraction(x, train, 0.03)
    assert share.device == meta and share.shape == ()
