"""The same computations on a CUDA GPU (skipped where there is none; run on a GPU machine before a release)."""

import math

import pytest
import torch

import diffusion_utils as du

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CUDA = torch.device("cuda")


def test_chain_and_marginal_stay_on_the_gpu_and_match_the_closed_form():
    s = du.NoiseSchedule.linear(1000, device=CUDA)
    n = 100_000
    x0 = torch.full((n,), 10.0, device=CUDA)
    traj = du.forward_chain(x0, s, torch.Generator(device=CUDA).manual_seed(0))
    assert traj.device.type == "cuda" and torch.equal(traj[0], x0)
    for t in (1, 100, 1000):
        mean, var = du.marginal(x0[:1], s, t)
        assert mean.device.type == "cuda"
        assert abs(traj[t].mean().item() - mean.item()) < 5 * math.sqrt(var.item() / n)
        assert abs(traj[t].var().item() - var.item()) < 5 * var.item() * math.sqrt(2 / (n - 1))


def test_densities_agree_between_cpu_and_gpu():
    data = torch.tensor(du.DATASET)
    s = du.NoiseSchedule.constant(200, 0.04)
    grid = torch.linspace(-16, 16, 3201)
    times = torch.arange(1, 201)
    cpu = du.marginal_density(grid, data, s, times)
    gpu = du.marginal_density(grid.to(CUDA), data.to(CUDA), s.to(CUDA), times.to(CUDA))
    assert gpu.device.type == "cuda"
    assert torch.allclose(gpu.cpu(), cpu, rtol=1e-4, atol=1e-6)


def test_mixed_devices_are_refused_by_name():
    with pytest.raises(ValueError, match="schedule is on cpu but x0 is on cuda"):
        du.forward_chain(torch.zeros(3, device=CUDA), du.NoiseSchedule.linear(10))
    with pytest.raises(ValueError, match="generator is on cpu"):
        du.forward_chain(torch.zeros(3, device=CUDA), du.NoiseSchedule.linear(10, device=CUDA), torch.Generator())


def test_histogram_movie_from_gpu_data():
    data = du.toy_dataset(CUDA)
    s = du.NoiseSchedule.constant(50, 0.04, device=CUDA)
    grid = torch.linspace(-16, 16, 801, device=CUDA)
    movie = du.ForwardHistogram.simulate(data, s, grid, 1000, torch.Generator(device=CUDA).manual_seed(0))
    samples, density = movie.frame(20)
    assert samples.shape == (1000,) and density.shape == (801,)
    assert math.isclose(float(density.sum() * 0.04), 1.0, abs_tol=1e-3)


def test_part_two_runs_on_the_gpu():
    """Training, the exact denoiser, sampling and the metrics stay on the GPU and reach the book's targets."""
    trained = du.train_toy_1d(CUDA)
    assert next(trained.model.parameters()).device.type == "cuda"
    g = torch.Generator(device=CUDA).manual_seed(0)
    xT = torch.randn(5000, 1, generator=g, device=CUDA)
    samples = trained.scaler.decode(du.ancestral_sample(trained.model, trained.schedule, xT, g)[:, 0])
    assert samples.device.type == "cuda"
    assert du.wasserstein_1d(samples, trained.data[:, 0]).item() < 0.5
    exact = du.ExactDenoiser(trained.scaler.encode(trained.data), trained.schedule)
    path = du.ancestral_sample(exact, trained.schedule, xT, g, trajectory=True)
    assert path.device.type == "cuda" and path.shape == (1001, 5000, 1)
    mean, var = du.posterior(trained.data[:, 0], path[5, :4, 0], trained.schedule, 5)
    assert mean.device.type == "cuda" and var.device.type == "cuda"
