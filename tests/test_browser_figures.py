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
    assert "window.KernelFree.mount" in snippet and "function alphaBars" in snippet
    assert 'role="figure"' in snippet and "aria-label=" in snippet
    assert "http" not in snippet.replace("http://www.w3.org/2000/svg", "")  # nothing fetched from anywhere


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
    with pytest.raises(ValueError, match="alt"):
        du.animation_html(anim, alt="  ")
    plt.close(fig)
