"""The 2-D score field: frames, the slider callback, the animation twin and the live explorer, headless.

Chapter: Scores and Tweedie. With the exact noise predictor as the "network" the two panels must agree, which tests
the learned score -eps / sqrt(1 - ab) end to end.
"""

import matplotlib

matplotlib.use("Agg")

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import diffusion_utils as du
from diffusion_utils.figures import widgets
from diffusion_utils.figures.widgets import score_field_explorer

SCHEDULE = du.NoiseSchedule.linear(100)
DATA = du.two_moons(200, generator=torch.Generator().manual_seed(0), device="cpu")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture()
def field():
    return du.ScoreField.build(DATA, du.ExactDenoiser(DATA, SCHEDULE), SCHEDULE, lim=2.0, arrows=8, num_dots=50,
                               generator=torch.Generator().manual_seed(1))


def test_field_grid_and_frames(field):
    assert field.tails.shape == (64, 2) and field.spacing == pytest.approx(4.0 / 7)
    assert field.tails.min() == -2.0 and field.tails.max() == 2.0
    frame = field.frame(30)
    assert isinstance(frame.exact, np.ndarray) and frame.exact.shape == (64, 2) and frame.dots.shape == (50, 2)
    ab = SCHEDULE.alpha_bars[30]
    np.testing.assert_allclose(frame.exact, du.mixture_score(field.tails, DATA, ab).numpy())
    # the exact noise predictor as the network: -eps / sqrt(1 - ab) is the exact score again
    np.testing.assert_allclose(frame.learned, frame.exact, rtol=1e-4, atol=1e-4 * np.abs(frame.exact).max())
    np.testing.assert_allclose(frame.dots, (ab.sqrt() * field.dots_x0 + (1 - ab).sqrt() * field.dots_noise).numpy())
    assert {tuple(p) for p in field.dots_x0.tolist()} <= {tuple(p) for p in DATA.tolist()}  # drawn from the data
    with pytest.raises(ValueError, match=r"t must lie in \[1, 100\], got 0"):
        field.frame(0)


def test_update_score_field_changes_existing_artists_only(field):
    artists = du.score_field_figure(field)
    children = [len(ax.get_children()) for ax in (artists.ax_exact, artists.ax_learned)]
    for t in (1, 50, 100, 5):
        frame = field.frame(t)
        du.update_score_field(artists, frame)
        size = np.linalg.norm(frame.exact, axis=1)
        np.testing.assert_allclose(np.hypot(artists.exact.U, artists.exact.V), artists.arrow, rtol=1e-6)
        np.testing.assert_allclose(artists.exact.U, frame.exact[:, 0] / size * artists.arrow, rtol=1e-6)
        np.testing.assert_allclose(artists.exact.get_array(), np.log10(size), rtol=1e-6)
        top = math.log10(size.max())
        assert artists.exact.get_clim() == pytest.approx((top - 3, top))
        assert artists.learned.get_clim() == artists.exact.get_clim(), "one colour scale for both panels"
        np.testing.assert_allclose(artists.dots_learned.get_offsets(), frame.dots)
        assert artists.title.get_text() == f"t = {t}"
        assert [len(ax.get_children()) for ax in (artists.ax_exact, artists.ax_learned)] == children
    assert artists.arrow == pytest.approx(0.8 * field.spacing)
    du.update_score_field(artists, field.frame(5), title="custom")
    assert artists.title.get_text() == "custom"
    artists.fig.canvas.draw()  # renders without a display


def test_a_zero_score_draws_a_zero_arrow(field):
    artists = du.score_field_figure(field)
    frame = field.frame(10)
    exact = frame.exact.copy()
    exact[3] = 0.0
    du.update_score_field(artists, frame._replace(exact=exact))
    assert artists.exact.U[3] == 0 and artists.exact.V[3] == 0 and np.isfinite(artists.exact.get_array()).all()


def test_animation_twin_uses_the_same_callback(field):
    artists = du.score_field_figure(field, figsize=(4, 2.5))
    anim = du.score_field_animation(field, artists, times=[2, 40, 100])
    html = du.animation_html(anim, alt="score field", dpi=30)
    assert html.count("data:image/png;base64") == 3 and 'alt="score field"' in html
    np.testing.assert_allclose(artists.learned.get_array(), np.log10(np.linalg.norm(field.frame(100).learned, axis=1)),
                               rtol=1e-6)  # the last frame drawn
    with pytest.raises(ValueError, match="times must hold at least one time"):
        du.score_field_animation(field, artists, times=[])


def test_score_field_explorer_headless(field):
    assert "score_field_explorer" in widgets.__all__  # tests/live_lab.py finds explorers by this name
    box = score_field_explorer(field, t=20)
    slider = box.controls["t"]
    assert (slider.min, slider.max, slider.value) == (1, 100, 20)
    before = box.artists.exact.U.copy()
    slider.value = 90
    assert box.artists.title.get_text() == "t = 90"
    assert not np.allclose(box.artists.exact.U, before)
    np.testing.assert_allclose(box.artists.exact.get_array(),
                               np.log10(np.linalg.norm(field.frame(90).exact, axis=1)), rtol=1e-6)
    _slider, minus, plus = box.children[0].children[:3]
    plus.click()
    assert slider.value == 91 and box.artists.title.get_text() == "t = 91"
    minus.click()
    minus.click()
    assert slider.value == 89
    with pytest.raises(ValueError, match=r"t must lie in \[1, 100\], got 0"):
        score_field_explorer(field, t=0)


def test_build_rejects_bad_input():
    model = du.ExactDenoiser(DATA, SCHEDULE)
    with pytest.raises(ValueError, match=r"data must have shape \(K, 2\)"):
        du.ScoreField.build(DATA[:, :1], model, SCHEDULE)
    with pytest.raises(TypeError, match="model must be callable"):
        du.ScoreField.build(DATA, "net", SCHEDULE)
    with pytest.raises(TypeError, match="schedule must be a NoiseSchedule"):
        du.ScoreField.build(DATA, model, 1000)
    with pytest.raises(ValueError, match="schedule is on meta but data is on cpu"):
        du.ScoreField.build(DATA, model, du.NoiseSchedule.linear(10, device="meta"))
    with pytest.raises(ValueError, match=r"arrows must lie in \[2, 200\], got 1"):
        du.ScoreField.build(DATA, model, SCHEDULE, arrows=1)
    with pytest.raises(ValueError, match="lim must be a finite number > 0"):
        du.ScoreField.build(DATA, model, SCHEDULE, lim=0.0)
