import math

import pytest
import torch

import diffusion_utils as du
import diffusion_utils.core.mixture as mixture_module

DATA = torch.tensor(du.DATASET)
GRID = torch.linspace(-16, 16, 3201)


def direct_density(grid, means, variances, weights):
    """The textbook formula, in float64, with no tricks."""
    g = grid.double()[:, None]
    m, v, w = means.double(), variances.double(), weights.double()
    return (w * torch.exp(-0.5 * (g - m) ** 2 / v) / torch.sqrt(2 * math.pi * v)).sum(-1)


def test_matches_direct_evaluation_and_integrates_to_one():
    gen = torch.Generator().manual_seed(0)
    means = torch.randn(7, generator=gen, dtype=torch.float64) * 4
    variances = torch.rand(7, generator=gen, dtype=torch.float64) + 0.2
    weights = torch.rand(7, generator=gen, dtype=torch.float64)
    weights = weights / weights.sum()
    grid = GRID.double()
    dens = du.mixture_density(grid, means, variances, weights)
    assert torch.allclose(dens, direct_density(grid, means, variances, weights), rtol=1e-10, atol=1e-14)
    assert math.isclose(torch.trapezoid(dens, grid).item(), 1.0, abs_tol=1e-6)


def test_default_weights_are_uniform_and_variance_may_be_a_scalar():
    means = torch.tensor([-3.0, 0.0, 2.0])
    dens = du.mixture_density(GRID, means, 0.5)
    expected = direct_density(GRID, means, torch.full((3,), 0.5), torch.full((3,), 1 / 3))
    assert torch.allclose(dens.double(), expected, rtol=1e-5, atol=1e-7)


def test_many_components_in_bounded_blocks(monkeypatch):
    monkeypatch.setattr(mixture_module, "_BLOCK_ELEMENTS", 3201 * 64)  # force 64-component blocks
    gen = torch.Generator().manual_seed(1)
    means = torch.randn(1000, generator=gen, dtype=torch.float64) * 5
    variances = torch.full((1000,), 0.3, dtype=torch.float64)
    weights = torch.full((1000,), 1e-3, dtype=torch.float64)
    grid = GRID.double()
    assert torch.allclose(du.mixture_density(grid, means, variances, weights), direct_density(grid, means, variances, weights), rtol=1e-10, atol=1e-14)


def test_batched_means_give_one_density_per_row():
    means = torch.stack([DATA, 0.5 * DATA])
    dens = du.mixture_density(GRID, means, torch.tensor([[1.0], [0.25]]))
    assert dens.shape == (2, 3201)
    assert torch.allclose(dens[1].double(), direct_density(GRID, 0.5 * DATA, torch.full((4,), 0.25), torch.full((4,), 0.25)), atol=1e-6)


def test_log_sum_exp_keeps_sharp_densities_finite():
    dens = du.mixture_density(torch.tensor([0.0, 1e-3, 50.0]), torch.tensor([0.0]), torch.tensor([1e-8]))
    assert torch.isfinite(dens).all()
    assert math.isclose(dens[0].item(), 1 / math.sqrt(2 * math.pi * 1e-8), rel_tol=1e-5)
    assert dens[2].item() == 0.0


def test_empirical_distribution_merges_repeats():
    points, weights = du.empirical_distribution(torch.tensor([1.0, -5.0, 1.0, 10.0, 1.0, -15.0, -5.0, 10.0]))
    assert points.tolist() == [-15.0, -5.0, 1.0, 10.0]
    assert weights.tolist() == [0.125, 0.25, 0.375, 0.25]


def test_marginal_density_is_the_mixture_over_the_data_points():
    s = du.NoiseSchedule.constant(200, 0.04)
    for t in (1, 10, 100, 200):
        ab = 0.96**t
        expected = direct_density(GRID, math.sqrt(ab) * DATA, torch.full((4,), 1 - ab), torch.full((4,), 0.25))
        got = du.marginal_density(GRID, DATA, s, t)
        assert torch.allclose(got.double(), expected, rtol=1e-4, atol=1e-6)
        assert math.isclose(torch.trapezoid(got, GRID).item(), 1.0, abs_tol=1e-3)
    # Repeated points change the weights, not the number of components.
    repeated = torch.cat([DATA, DATA[:1].repeat(4)])
    ab = 0.96**50
    weighted = direct_density(GRID, math.sqrt(ab) * DATA, torch.full((4,), 1 - ab), torch.tensor([5, 1, 1, 1]) / 8)
    assert torch.allclose(du.marginal_density(GRID, repeated, s, 50).double(), weighted, rtol=1e-4, atol=1e-6)
    rows = du.marginal_density(GRID, DATA, s, torch.arange(1, 201))
    assert rows.shape == (200, 3201)
    assert torch.allclose(rows[9], du.marginal_density(GRID, DATA, s, 10))


def test_mixture_runs_on_the_meta_device():
    # (marginal_density merges repeated points with torch.unique, whose output size depends on the values,
    # so it has no meta kernel; the density evaluation it delegates to is checked here.)
    meta = torch.device("meta")
    grid = torch.empty(3201, device=meta)
    means = torch.empty(20, 100, device=meta)
    dens = du.mixture_density(grid, means, torch.empty(20, 1, device=meta), torch.empty(100, device=meta))
    assert dens.device == meta and dens.shape == (20, 3201)


@pytest.mark.parametrize("call, error, words", [
    (lambda: du.mixture_density(GRID, DATA, 0.0), ValueError, "variances must all be > 0"),
    (lambda: du.mixture_density(GRID, DATA, torch.tensor([1.0, 1.0])), ValueError, "variances of shape (2,) do not broadcast"),
    (lambda: du.mixture_density(GRID, DATA, 1.0, torch.tensor([0.5, 0.5, 0.5, -0.5])), ValueError, "weights must all be >= 0"),
    (lambda: du.mixture_density(GRID, DATA, 1.0, torch.tensor([0.5, 0.5, 0.5, 0.5])), ValueError, "weights must sum to 1"),
    (lambda: du.mixture_density(GRID[:, None], DATA, 1.0), ValueError, "grid must have 1 dimensions"),
    (lambda: du.mixture_density(GRID, DATA.to("meta"), 1.0), ValueError, "means is on meta but grid is on cpu"),
    (lambda: du.mixture_density(GRID, torch.tensor([float("inf")]), 1.0), ValueError, "means must be finite"),
    (lambda: du.marginal_density(GRID, DATA, du.NoiseSchedule.linear(10), 0), ValueError, "t must lie in [1, T]"),
    (lambda: du.marginal_density(GRID, DATA, du.NoiseSchedule.linear(10), torch.arange(0, 5)), ValueError, "t must lie in [1, T]"),
    (lambda: du.marginal_density(GRID, DATA, du.NoiseSchedule.linear(10), 11), ValueError, "t must lie in [0, 10]"),
    (lambda: du.marginal_density(GRID, DATA, du.NoiseSchedule.linear(10), torch.ones(2, 2, dtype=torch.long)), ValueError, "1-D integer tensor"),
    (lambda: du.marginal_density(GRID, torch.empty(0), du.NoiseSchedule.linear(10), 1), ValueError, "data must hold at least one point"),
    (lambda: du.marginal_density(GRID, DATA[:, None], du.NoiseSchedule.linear(10), 1), ValueError, "data must have 1 dimensions"),
])
def test_bad_input_raises_named_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_marginal_modes_two_equal_bumps_merge_at_two_sd():
    """Two equal Gaussians at +-m with sd s have one mode iff 2m <= 2s; the count flips exactly there."""
    data = torch.tensor([-1.0, 1.0], dtype=torch.float64)
    schedule = du.NoiseSchedule.constant(400, 0.01, dtype=torch.float64)
    grid = torch.linspace(-3, 3, 6001, dtype=torch.float64)
    times = torch.arange(1, 401)
    counts = du.marginal_modes(grid, data, schedule, times).sum(-1)
    ab = schedule.alpha_bars[times]
    merged = ab.sqrt() < (1 - ab).sqrt()  # means 2 sqrt(ab) apart, closer than two sds
    torch.testing.assert_close(counts, torch.where(merged, 1, 2))
    assert counts[0] == 2 and counts[-1] == 1


def test_marginal_modes_locations_and_shapes():
    data = du.toy_dataset("cpu")
    schedule = du.NoiseSchedule.constant(200, 0.04)
    grid = torch.linspace(-16, 16, 3201)
    one = du.marginal_modes(grid, data, schedule, 1)
    assert one.shape == (3201,) and one.sum() == 4
    # at t = 1 each mode sits at a scaled data point, to within a grid step
    found = grid[one]
    torch.testing.assert_close(found, schedule.alpha_bars[1].sqrt() * data, atol=0.011, rtol=0)
    many = du.marginal_modes(grid, data, schedule, torch.arange(1, 201))
    assert many.shape == (200, 3201) and not many[:, -1].any()
    counts = many.sum(-1)
    assert (counts.diff() <= 0).all() and counts[-1] == 1
    # the same answer as counting the local maxima of the density, where that density is well resolved (float64)
    s64, g64 = schedule.to(dtype=torch.float64), grid.double()
    density = du.marginal_density(g64, data.double(), s64, 30)
    peaks = (density[1:-1] > density[:-2]) & (density[1:-1] > density[2:])
    assert du.marginal_modes(g64, data.double(), s64, 30).sum() == peaks.sum() == 4
    with pytest.raises(ValueError, match="q_0 is a sum of point masses"):
        du.marginal_modes(grid, data, schedule, 0)
