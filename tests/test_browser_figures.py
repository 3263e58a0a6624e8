"""The kernel-free figures' HTML (their numbers are checked in a browser by test_site.py) and the player's HTML."""

import html
import json
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.animation import FuncAnimation

import diffusion_utils as du

DATA = torch.tensor(du.DATASET)


def _config(snippet: str) -> dict:
    return json.loads(html.unescape(re.search(r"data-config='([^']*)'", snippet).group(1)))


def test_marginal_html_embeds_the_data_and_the_script():
    snippet = du.marginal_html(torch.tensor([1.0, -5.0, 1.0, 10.0]), T=200, schedule="cosine", t=7, beta=0.02).data
    cfg = _config(snippet)
    assert cfg["kind"] == "marginal" and cfg["T"] == 200
    assert cfg["points"] == [-5.0, 1.0, 10.0] and cfg["weights"] == [0.25, 0.5, 0.25]  # repeats merged, as marginal_density
    controls = {c["name"]: c for c in cfg["controls"]}
    assert controls["t"]["value"] == 7 and controls["t"]["max"] == 200
    assert controls["schedule"]["value"] == "cosine" and controls["beta"]["value"] == 0.02
    assert {0.01, 0.02, 0.04, 0.15, 0.5} <= set(controls["beta"]["values"]), "the advertised values are stops"
    assert controls["beta"]["values"][0] == 1e-4 and controls["beta"]["values"][-1] == 0.5
    assert set(cfg["colors"]) == {"light", "dark"}
    assert "window.KernelFree.mount" in snippet and "function alphaBars" in snippet
    assert 'role="figure"' in snippet and "aria-label=" in snippet
    assert "http" not in snippet.replace("http://www.w3.org/2000/svg", "")  # nothing fetched from anywhere


def test_beta_values_are_exact_decimals():
    """0.04 on the slider is the float 0.04 (the package's), not 10**-1.4; a value passed in is kept exactly."""
    values = du.figures.browser_figures.BETA_VALUES
    assert 0.04 in values and 0.15 in values and 0.5 in values and 0.0398 not in values
    assert list(values) == sorted(set(values)) and all(float(repr(v)) == v for v in values)
    cfg = _config(du.marginal_html(DATA, beta=0.037).data)
    beta = {c["name"]: c for c in cfg["controls"]}["beta"]
    assert beta["value"] == 0.037 and 0.037 in beta["values"] and beta["values"] == sorted(beta["values"])


def test_each_figure_gets_its_own_id():
    a, b = du.fixed_factor_html().data, du.fixed_factor_html().data
    ids = [re.search(r'id="(kf-[^"]+)"', s).group(1) for s in (a, b)]
    assert ids[0] != ids[1]
    cfg = _config(a)
    assert cfg["kind"] == "fixed_factor" and cfg["x0"] == 5.0 and cfg["T"] == 60


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"T": 0}, "T"),
        ({"t": 1001}, "t"),
        ({"schedule": "quadratic"}, "schedule"),
        ({"beta": 0.9}, "beta"),
        ({"beta": 0.0}, "beta"),
        ({"grid": (1.0, -1.0, 100)}, "grid"),
        ({"grid": (0.0, 1.0)}, "grid"),
        ({"ymax": -1.0}, "ymax"),
    ],
)
def test_marginal_html_rejects_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        du.marginal_html(DATA, **kwargs)


def test_marginal_html_rejects_bad_data():
    with pytest.raises((ValueError, TypeError), match="data"):
        du.marginal_html(torch.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="data"):
        du.marginal_html(torch.tensor([1.0, float("nan")]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"a": 1.0}, "a"), ({"a": 0.2}, "a"), ({"b": 0.0}, "b"), ({"b": 3.0}, "b"),
     ({"t": 61}, "t"), ({"x0": float("inf")}, "x0"), ({"ylim": 0}, "ylim")],
)
def test_fixed_factor_html_rejects_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        du.fixed_factor_html(**kwargs)


def test_animation_html_is_offline_and_labelled():
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    anim = FuncAnimation(fig, lambda i: line.set_ydata([0, i]), frames=3)
    player = du.animation_html(anim, alt='paths "moving"')
    assert "font-awesome" not in player and "https://" not in player
    assert '<img alt="paths &quot;moving&quot;" id=' in player
    assert player.count('<span aria-hidden="true">') == 9 and 'title="Next frame"' in player
    assert 'class="anim-slider" aria-label="animation frame"' in player, "the slider has an accessible name"
    assert '<div class="animation du-player">' in player and ".du-player img{display:block;max-width:100%" in player
    with pytest.raises(ValueError, match="alt"):
        du.animation_html(anim, alt="  ")
    with pytest.raises(ValueError, match="dpi"):
        du.animation_html(anim, alt="x", dpi=0)
    plt.close(fig)


def test_animation_frames_are_drawn_at_the_dpi_and_palette_encoded():
    import base64
    import io

    from PIL import Image

    fig, ax = plt.subplots(figsize=(3, 2))
    (line,) = ax.plot([0, 1], [0, 1])
    anim = FuncAnimation(fig, lambda i: line.set_ydata([0, i]), frames=2)
    sizes = {}
    for colors in (None, 64):
        player = du.animation_html(anim, alt="x", dpi=50, colors=colors)
        frames = re.findall(r'"data:image/png;base64,([^"]*)"', player)
        assert len(frames) == 2
        with Image.open(io.BytesIO(base64.b64decode(frames[0].replace("\\\n", "")))) as image:
            assert image.size == (150, 100)
            assert (image.mode == "P") == (colors is not None)
        sizes[colors] = sum(len(f) for f in frames)
    assert sizes[64] < sizes[None]
    plt.close(fig)
