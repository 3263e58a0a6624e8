import math

import pytest
import torch

import diffusion_utils as du

DATA = torch.tensor(du.DATASET)


def seeded(seed: int = 0, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def test_trajectory_is_time_major_and_starts_at_the_data():
    s = du.NoiseSchedule.constant(30, 0.04)
    x0 = DATA.repeat(5)
    traj = du.forward_chain(x0, s, seeded())
    assert traj.shape == (31, 20) and traj.dtype == x0.dtype
    assert torch.equal(traj[0], x0)
    x0_2d = torch.randn(7, 3, generator=seeded(1))
    traj_2d = du.forward_chain(x0_2d, s, seeded())
    assert traj_2d.shape == (31, 7, 3) and torch.equal(traj_2d[0], x0_2d)


def test_same_seed_same_trajectory_and_steps_follow_the_recursion():
    s = du.NoiseSchedule.linear(50)
    a = du.forward_chain(DATA, s, seeded(3))
    b = du.forward_chain(DATA, s, seeded(3))
    assert torch.equal(a, b)
    # Recover eps_t from consecutive states: it must look standard normal (mean 0, var 1 within 5 SE).
    x0 = torch.zeros(20_000)
    traj = du.forward_chain(x0, s, seeded(4))
    eps = (traj[1:] - s.alphas[1:, None].sqrt() * traj[:-1]) / s.betas[1:, None].sqrt()
    n = eps.numel()
    assert abs(eps.mean().item()) < 5 / math.sqrt(n)
    assert abs(eps.var().item() - 1) < 5 * math.sqrt(2 / n)


@pytest.mark.parametrize("schedule", [du.NoiseSchedule.linear(1000), du.NoiseSchedule.cosine(300)])
def test_monte_carlo_moments_match_the_marginal(schedule):
    n = 20_000
    x0 = torch.full((n,), -15.0)
    traj = du.forward_chain(x0, schedule, seeded(5))
    for t in (1, schedule.T // 10, schedule.T // 2, schedule.T):
        mean, var = du.marginal(x0[:1], schedule, t)
        mean, var = mean.item(), var.item()
        assert abs(traj[t].mean().item() - mean) < 5 * math.sqrt(var / n)
        assert abs(traj[t].var().item() - var) < 5 * var * math.sqrt(2 / (n - 1))


def test_marginal_at_zero_is_the_data_with_variance_exactly_zero():
    s = du.NoiseSchedule.cosine(100)
    mean, var = du.marginal(DATA, s, 0)
    assert torch.equal(mean, DATA)
    assert torch.equal(var, torch.zeros_like(DATA))
    mean, var = du.marginal(DATA, s, torch.tensor(0))
    assert torch.equal(var, torch.zeros_like(DATA))


def test_marginal_values_and_broadcasting():
    s = du.NoiseSchedule.constant(200, 0.04)
    mean, var = du.marginal(DATA, s, 10)
    assert torch.allclose(mean, 0.96**5 * DATA)
    assert torch.allclose(var, torch.full((4,), 1 - 0.96**10))
    times = torch.arange(201)[:, None]
    mean, var = du.marginal(DATA, s, times)
    assert mean.shape == var.shape == (201, 4)
    assert torch.allclose(var[:, 0], 1 - s.alpha_bars)
    x = torch.randn(6, 2, generator=seeded())
    per_sample = torch.tensor([0, 1, 2, 50, 100, 200])[:, None]
    mean, var = du.marginal(x, s, per_sample)
    assert mean.shape == (6, 2) and torch.equal(mean[0], x[0]) and torch.allclose(var[-1], 1 - s.alpha_bars[-1].expand(2))


def test_fixed_factor_moments_and_geometric_sum():
    chain = du.FixedFactorChain(a=0.8, b=0.7)  # not variance preserving
    n = 50_000
    x0 = torch.full((n,), 3.0)
    traj = chain.simulate(x0, 40, seeded(6))
    assert torch.equal(traj[0], x0)
    for t in (1, 3, 10, 40):
        mean, var = chain.marginal(x0[:1], t)
        assert math.isclose(mean.item(), 0.8**t * 3, rel_tol=1e-5)
        assert math.isclose(var.item(), sum(0.7**2 * 0.8 ** (2 * k) for k in range(t)), rel_tol=1e-5)
        assert abs(traj[t].mean().item() - mean.item()) < 5 * math.sqrt(var.item() / n)
        assert abs(traj[t].var().item() - var.item()) < 5 * var.item() * math.sqrt(2 / (n - 1))
    assert math.isclose(chain.stationary_variance, 0.49 / 0.36)
    assert chain.marginal(x0[:1], 0)[1].item() == 0.0


def test_variance_preserving_chain_equals_constant_schedule():
    vp = du.FixedFactorChain.variance_preserving(0.3)
    assert math.isclose(vp.a**2 + vp.b**2, 1.0)
    _, var = vp.marginal(torch.ones(1), torch.arange(20)[:, None])
    assert torch.allclose(var[:, 0].double(), 1 - vp.a ** (2 * torch.arange(20.0, dtype=torch.float64)), atol=1e-6)
    by_chain = vp.simulate(DATA, 25, seeded(8))
    by_schedule = du.forward_chain(DATA, du.NoiseSchedule.constant(25, 0.09), seeded(8))
    assert torch.allclose(by_chain, by_schedule, atol=1e-5)


def test_simulation_and_marginals_stay_on_the_input_device():
    """Device-leak test without a GPU: on the meta device any hidden CPU tensor or host randomness would fail."""
    meta = torch.device("meta")
    s = du.NoiseSchedule.linear(100, device=meta)
    x0 = torch.empty(1000, 2, device=meta)
    traj = du.forward_chain(x0, s)
    assert traj.device == meta and traj.shape == (101, 1000, 2)
    mean, var = du.marginal(x0, s, torch.arange(101, device=meta)[:, None, None])
    assert mean.device == meta and mean.shape == (101, 1000, 2) and var.shape == (101, 1000, 2)
    mean, var = du.marginal(x0, s, 7)
    assert mean.device == var.device == meta
    chain = du.FixedFactorChain(0.9, 0.3)
    assert chain.simulate(x0, 10).device == meta
    assert chain.marginal(x0, torch.arange(5, device=meta)[:, None, None])[0].device == meta


@pytest.mark.parametrize("call, error, words", [
    (lambda: du.forward_chain([1.0, 2.0], du.NoiseSchedule.linear(10)), TypeError, "x0 must be a torch.Tensor"),
    (lambda: du.forward_chain(torch.tensor([1, 2]), du.NoiseSchedule.linear(10)), TypeError, "x0 must have a floating-point dtype"),
    (lambda: du.forward_chain(torch.tensor(1.0), du.NoiseSchedule.linear(10)), ValueError, "x0 must have"),
    (lambda: du.forward_chain(torch.tensor([1.0, float("nan")]), du.NoiseSchedule.linear(10)), ValueError, "x0 must be finite"),
    (lambda: du.forward_chain(DATA, "linear"), TypeError, "schedule must be a NoiseSchedule"),
    (lambda: du.forward_chain(DATA, du.NoiseSchedule.linear(10, device="meta")), ValueError, "schedule is on meta but x0 is on cpu"),
    (lambda: du.forward_chain(DATA.to("meta"), du.NoiseSchedule.linear(10)), ValueError, "schedule is on cpu but x0 is on meta"),
    (lambda: du.forward_chain(DATA.to("meta"), du.NoiseSchedule.linear(10, device="meta"), torch.Generator()), ValueError, "generator is on cpu"),
    (lambda: du.forward_chain(DATA, du.NoiseSchedule.linear(10), 42), TypeError, "generator must be a torch.Generator"),
    (lambda: du.marginal(DATA, du.NoiseSchedule.linear(10), 11), ValueError, "t must lie in [0, 10], got 11"),
    (lambda: du.marginal(DATA, du.NoiseSchedule.linear(10), -1), ValueError, "t must lie in [0, 10]"),
    (lambda: du.marginal(DATA, du.NoiseSchedule.linear(10), torch.tensor([0, 12])), ValueError, "t must lie in [0, 10], got values from 0 to 12"),
    (lambda: du.marginal(DATA, du.NoiseSchedule.linear(10), 2.5), TypeError, "t must be an int"),
    (lambda: du.marginal(DATA, du.NoiseSchedule.linear(10), torch.tensor([1.0])), TypeError, "t must be an int or an integer tensor"),
    (lambda: du.marginal(torch.zeros(5, 2), du.NoiseSchedule.linear(10), torch.arange(5)), ValueError, "t of shape (5,) does not broadcast against x0 of shape (5, 2)"),
    (lambda: du.FixedFactorChain(0.5, 0.5).marginal(DATA, torch.arange(3)), ValueError, "t of shape (3,) does not broadcast"),
    (lambda: du.FixedFactorChain(a=1.0, b=0.5), ValueError, "a must lie in the open interval (0, 1), got 1.0"),
    (lambda: du.FixedFactorChain(a=0.5, b=0.0), ValueError, "b must be a finite number > 0"),
    (lambda: du.FixedFactorChain.variance_preserving(1.0), ValueError, "b must lie in the open interval (0, 1)"),
    (lambda: du.FixedFactorChain(0.5, 0.5).simulate(DATA, 0), ValueError, "T must lie in [1, inf)"),
    (lambda: du.FixedFactorChain(0.5, 0.5).marginal(DATA, -3), ValueError, "t must lie in [0, inf)"),
])
def test_bad_input_raises_named_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)
