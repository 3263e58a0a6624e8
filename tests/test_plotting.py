import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import diffusion_utils as du
from diffusion_utils.widgets import fixed_factor_explorer, histogram_explorer

DATA = torch.tensor(du.DATASET)
GRID = torch.linspace(-16, 16, 3201)
EDGES = np.linspace(-16, 16, 65)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture()
def movie():
    s = du.NoiseSchedule.constant(40, 0.04)
    return du.ForwardHistogram.simulate(DATA, s, GRID, num_particles=500, generator=torch.Generator().manual_seed(0))


def test_forward_histogram_frames(movie):
    assert movie.particles.shape == (41, 500) and isinstance(movie.particles, np.ndarray)
    assert set(np.unique(movie.particles[0])) <= set(du.DATASET)
    _samples, density = movie.frame(0)
    assert density is None
    _samples, density = movie.frame(12)
    np.testing.assert_allclose(density, du.marginal_density(GRID, DATA, movie.schedule, 12).numpy())


def test_update_histogram_changes_existing_artists_only(movie):
    artists = du.histogram_figure(GRID, EDGES)
    n_children = len(artists.ax.get_children())
    for t in (0, 5, 40, 5):
        samples, density = movie.frame(t)
        du.update_histogram(artists, samples, density, t)
        heights = artists.bars.get_data().values
        np.testing.assert_allclose(heights, np.histogram(samples, bins=EDGES, density=True)[0])
        assert len(artists.ax.get_children()) == n_children, "no new artists per update"
        assert f"t = {t}" in artists.title.get_text()
        if t == 0:
            assert not artists.curve.get_visible()
        else:
            assert artists.curve.get_visible()
            np.testing.assert_allclose(artists.curve.get_ydata(), density)
    artists.fig.canvas.draw()  # renders without a display


def test_animation_twin_uses_the_same_frames(movie):
    artists = du.histogram_figure(GRID, EDGES)
    artists.fig.set_dpi(40)
    anim = du.histogram_animation(movie, artists, times=[0, 10, 20, 30, 40])
    html = anim.to_jshtml()
    assert html.count("data:image/png;base64") == 5 and "<script" in html
    samples, _density = movie.frame(40)
    np.testing.assert_allclose(artists.bars.get_data().values, np.histogram(samples, bins=EDGES, density=True)[0])


def test_save_gif(movie, tmp_path):
    from PIL import Image

    artists = du.histogram_figure(GRID, EDGES, figsize=(3, 2))
    path = du.save_gif(du.histogram_animation(movie, artists, times=[0, 20, 40]), str(tmp_path / "a.gif"), fps=5)
    with Image.open(path) as gif:
        assert gif.n_frames == 3


def test_update_fixed_factor_draws_the_closed_form():
    artists = du.fixed_factor_figure(30, torch.linspace(-8, 8, 401))
    chain = du.FixedFactorChain(0.9, 0.4)
    du.update_fixed_factor(artists, chain, x0=5.0, t=10)
    mean, var = chain.marginal(torch.tensor([5.0]), torch.arange(31)[:, None])
    np.testing.assert_allclose(artists.mean.get_ydata(), mean[:, 0].numpy(), rtol=1e-6)
    verts = artists.band.get_paths()[0].vertices
    assert np.isclose(verts[:, 1].max(), (mean[:, 0] + 2 * var[:, 0].sqrt()).max().item(), rtol=1e-5)
    density = artists.density.get_ydata()
    m10, v10 = chain.marginal(torch.tensor([5.0]), 10)
    np.testing.assert_allclose(density, du.mixture_density(torch.linspace(-8, 8, 401), m10, v10).numpy(), rtol=1e-5)
    assert list(artists.marker.get_xdata()) == [10, 10]
    assert len(artists.paths.get_segments()) == 5
    du.update_fixed_factor(artists, chain, x0=5.0, t=0)
    assert not artists.density.get_visible()
    with pytest.raises(ValueError, match=r"t must lie in \[0, 30\], got 31"):
        du.update_fixed_factor(artists, chain, x0=5.0, t=31)
    artists.fig.canvas.draw()


def test_plot_helpers_render():
    s = du.NoiseSchedule.constant(50, 0.04)
    traj = du.forward_chain(DATA.repeat(25), s, torch.Generator().manual_seed(1))
    fig, (a, b) = plt.subplots(1, 2)
    artists = du.plot_paths(a, traj)
    assert len(artists["highlight"]) == 2
    np.testing.assert_allclose(artists["mean"].get_ydata(), traj.mean(1).numpy(), rtol=1e-5, atol=1e-6)
    times = torch.arange(1, 51)
    du.plot_density_heatmap(b, GRID, du.marginal_density(GRID, DATA, s, times), times)
    fig.canvas.draw()
    with pytest.raises(ValueError, match="traj must have shape"):
        du.plot_paths(a, traj[:, :, None])


def test_live_widgets_build_and_respond_headless():
    box = histogram_explorer(DATA, T=30, num_particles=300)
    t_slider, n_slider, beta_slider = box.children[0].children
    t_slider.value = 30  # triggers the callback, which updates the figure's artists
    assert box.artists.title.get_text() == "t = 30"
    before = box.artists.bars.get_data().values.copy()
    beta_slider.value = 0.1  # re-simulates with a larger beta: the histogram at t = 30 gets wider
    after = box.artists.bars.get_data().values
    spread = lambda h: np.sqrt((h * EDGES[:-1] ** 2).sum() * 0.5)
    assert spread(after) < spread(before), "beta = 0.1 shrinks the data's spread faster than 0.04"
    assert t_slider.max == 30 and n_slider.value == 300
    box = fixed_factor_explorer(x0=2.0, T=20)
    a_slider, _b_slider, t_slider = box.children[0].children
    t_slider.value = 0
    assert not box.artists.density.get_visible()
    a_slider.value = 0.8
    assert "a = 0.800" in box.artists.ax_density.get_title()
    with pytest.raises(ValueError, match="num_particles"):
        du.ForwardHistogram.simulate(DATA, du.NoiseSchedule.constant(5, 0.1), GRID, num_particles=0)


def test_reverse_histogram_frames_and_explorer():
    from diffusion_utils.widgets import reverse_explorer

    s = du.NoiseSchedule.linear(50)
    data = torch.tensor(du.DATASET)[:, None]
    scaler = du.DataScaler.fit(data)
    model = du.ExactDenoiser(scaler.encode(data), s)
    g = torch.Generator().manual_seed(0)
    path = du.ancestral_sample(model, s, torch.randn(500, 1, generator=g), g, trajectory=True)
    grid = torch.linspace(-30, 30, 1201)
    movie = du.ReverseHistogram.from_path(path, scaler.encode(data), s, grid, scaler)
    samples, density = movie.frame(0)
    assert density is None and np.allclose(samples, du.to_numpy(scaler.decode(path[0, :, 0])))
    _, density = movie.frame(25)
    assert abs(density.sum() * 0.05 - 1.0) < 1e-3, "q_t in data units integrates to 1"
    with pytest.raises(ValueError, match="path must have shape"):
        du.ReverseHistogram.from_path(path[:10], data, s, grid, scaler)
    box = reverse_explorer(movie)
    (t_slider,) = box.children[0].children
    assert t_slider.value == 50
    t_slider.value = 0
    assert box.artists.title.get_text().startswith("t = 0")
