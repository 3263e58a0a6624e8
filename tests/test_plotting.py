import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import diffusion_utils as du
from diffusion_utils.figures.widgets import fixed_factor_explorer, histogram_explorer

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
        assert artists.title.get_text() == f"t = {t}"
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
    t_slider, n_slider, beta_slider = (box.controls[k] for k in ("t", "num_particles", "beta"))
    assert t_slider.layout.width == "auto" and t_slider.layout.flex.startswith("1"), "the slider takes the row's width"
    t_slider.value = 30  # triggers the callback, which updates the figure's artists
    assert box.artists.title.get_text() == "t = 30, β = 0.04"
    before = box.artists.bars.get_data().values.copy()
    beta_slider.value = 0.1  # re-simulates with a larger beta: the histogram at t = 30 gets wider
    after = box.artists.bars.get_data().values
    spread = lambda h: np.sqrt((h * EDGES[:-1] ** 2).sum() * 0.5)
    assert spread(after) < spread(before), "beta = 0.1 shrinks the data's spread faster than 0.04"
    assert t_slider.max == 30 and n_slider.value == 300
    box = fixed_factor_explorer(x0=2.0, T=20)
    a_slider, _b_slider, t_slider = (box.controls[k] for k in ("a", "b", "t"))
    t_slider.value = 0
    assert not box.artists.density.get_visible()
    a_slider.value = 0.8
    assert "a = 0.800" in box.artists.ax_density.get_title()
    with pytest.raises(ValueError, match="num_particles"):
        du.ForwardHistogram.simulate(DATA, du.NoiseSchedule.constant(5, 0.1), GRID, num_particles=0)


def test_beta_slider_takes_the_passed_and_the_advertised_values_exactly():
    """0.04 stays 0.04 (not 10**-1.4 = 0.0398), and exercise 3's 0.01 and 0.15 are on the slider."""
    box = histogram_explorer(DATA, T=20, beta=0.04, num_particles=100)
    beta = box.controls["beta"]
    assert beta.value == 0.04
    values = [v for _label, v in beta.options]
    assert {0.001, 0.01, 0.02, 0.04, 0.15, 0.5} <= set(values) and values == sorted(values)
    beta.value = 0.15
    assert box.artists.title.get_text() == "t = 0: the data themselves (point masses), β = 0.15"
    odd = histogram_explorer(DATA, T=20, beta=0.037, num_particles=100).controls["beta"]
    assert odd.value == 0.037 and 0.04 in [v for _label, v in odd.options]  # an unlisted value is added, exactly
    with pytest.raises(ValueError, match="beta"):
        histogram_explorer(DATA, T=20, beta=0.9)


def test_step_buttons_move_the_sliders_by_one_step():
    box = fixed_factor_explorer(x0=2.0, T=20)
    a_row = box.children[0]
    a_slider, minus, plus = a_row.children[:3]
    assert a_slider is box.controls["a"] and minus.description == "\u2212" and plus.description == "+"
    plus.click()
    assert a_slider.value == 0.905 and "a = 0.905" in box.artists.ax_density.get_title()
    minus.click()
    minus.click()
    assert a_slider.value == 0.895
    a_slider.value = a_slider.max
    plus.click()
    assert a_slider.value == a_slider.max  # clamped
    explorer = histogram_explorer(DATA, T=200, beta=0.04, num_particles=100)
    t_row, _n_row, beta_row = explorer.children[:3]
    t_slider, _minus, t_plus, t_box = t_row.children
    t_plus.click()
    assert t_slider.value == 1 and t_box.value == 1, "a long slider has a number box, linked both ways"
    t_box.value = 150
    assert t_slider.value == 150 and explorer.artists.title.get_text().startswith("t = 150")
    beta_slider, beta_minus, beta_plus = beta_row.children
    beta_plus.click()
    assert beta_slider.value == 0.05
    beta_minus.click()
    beta_minus.click()
    assert beta_slider.value == 0.03


def test_reverse_histogram_frames_and_explorer():
    from diffusion_utils.figures.widgets import reverse_explorer

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
    t_slider = box.controls["t"]
    assert t_slider.value == 50
    t_slider.value = 0
    assert box.artists.title.get_text() == "t = 0: the generated samples"  # not "the data themselves"
    top_0 = box.artists.ax.get_ylim()[1]
    t_slider.value = 50
    top_T = box.artists.ax.get_ylim()[1]
    heights = box.artists.bars.get_data().values
    peak = max(heights.max(), box.artists.curve.get_ydata().max())
    assert peak < top_T < 1.5 * peak, "the y-axis fits the bell at t = T"
    assert top_T < top_0 / 3, "and the sharp peaks at t = 0"
    box.artists.fig.canvas.draw()


def test_histogram_titles_and_autoscale(movie):
    artists = du.histogram_figure(GRID, EDGES, ylim=None)
    assert artists.autoscale
    samples, density = movie.frame(40)
    du.update_histogram(artists, samples, density, 40, title=movie.title(40))
    top = artists.ax.get_ylim()[1]
    assert max(density.max(), np.histogram(samples, bins=EDGES, density=True)[0].max()) < top
    assert top in {du.figures.plotting.nice_ceil(top)}
    assert movie.title(0).startswith("t = 0: the data") and movie.title(7) == "t = 7"
    fixed = du.histogram_figure(GRID, EDGES)
    du.update_histogram(fixed, samples, density, 40)
    assert fixed.ax.get_ylim() == (0.0, 0.6) and not fixed.autoscale
    assert [du.figures.plotting.nice_ceil(v) for v in (0.041, 0.05, 0.0501, 7.3, 0.9)] == [0.05, 0.05, 0.06, 8.0, 1.0]
    with pytest.raises(ValueError, match="positive"):
        du.figures.plotting.nice_ceil(0.0)


def test_palette_contrast_on_white_and_dark():
    """Every line colour has a contrast of at least 3:1 on white (the figures' background) and on a dark page."""

    def luminance(colour: str) -> float:
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
        linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return float(linear @ [0.2126, 0.7152, 0.0722])

    def contrast(a: str, b: str) -> float:
        hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
        return (hi + 0.05) / (lo + 0.05)

    for name, colour in du.PALETTE.items():
        assert contrast(colour, "#ffffff") >= 3.0, (name, contrast(colour, "#ffffff"))
        assert contrast(colour, "#121212") >= 3.0, (name, contrast(colour, "#121212"))
    for mode, theme in du.figures.browser_figures.THEMES.items():
        for key in ("fg", "axis", "grey", "blue", "vermillion"):
            assert contrast(theme[key], theme["bg"]) >= 3.0, (mode, key, contrast(theme[key], theme["bg"]))


def test_ancestral_sample_progress_bar(capsys):
    """progress= shows a tqdm bar over the T steps (off by default) and changes no number.

    (The option lives in diffusion_utils/core/reverse.py; its test sits here with the other display tests.)
    """
    s = du.NoiseSchedule.linear(30)
    model = du.ExactDenoiser(torch.tensor(du.DATASET)[:, None] / 10, s)
    xT = torch.randn(50, 1, generator=torch.Generator().manual_seed(0))
    quiet = du.ancestral_sample(model, s, xT, torch.Generator().manual_seed(1))
    assert capsys.readouterr().err == ""
    shown = du.ancestral_sample(model, s, xT, torch.Generator().manual_seed(1), progress="sampling 1-D")
    err = capsys.readouterr().err
    assert "sampling 1-D" in err and "30/30" in err
    torch.testing.assert_close(quiet, shown, rtol=0, atol=0)
    with pytest.raises(TypeError, match="progress"):
        du.ancestral_sample(model, s, xT, progress=1)
