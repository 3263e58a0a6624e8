"""Conditioning and guidance: labelled data, the conditional network and its trainer, the cached recipes, the exact
guided flow against the tilted density, the guidance explorer (headless), meta and CUDA devices."""

import matplotlib

matplotlib.use("Agg")

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import diffusion_utils as du
from diffusion_utils.core import recipes
from diffusion_utils.figures import widgets
from diffusion_utils.figures.widgets import guidance_explorer

SCHEDULE = du.NoiseSchedule.linear(100)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- labelled data ---------------------------------------------------------------------------------------------------


def test_labelled_toy_1d_is_d_with_interleaved_classes():
    data, labels = du.labelled_toy_1d("cpu")
    assert data.shape == (4, 1) and data.dtype == torch.float64 and labels.dtype == torch.long
    assert data[:, 0].tolist() == list(du.DATASET) and labels.tolist() == [0, 1, 0, 1]
    data32, _ = du.labelled_toy_1d("cpu", torch.float32)
    assert data32.dtype == torch.float32


def test_labelled_two_moons_draws_what_two_moons_draws():
    for n, seed in ((1, 0), (300, 1), (8000, 0)):
        points, labels = du.labelled_two_moons(n, generator=torch.Generator().manual_seed(seed), device="cpu")
        plain = du.two_moons(n, generator=torch.Generator().manual_seed(seed), device="cpu")
        assert torch.equal(points, plain) and labels.shape == (n,) and labels.dtype == torch.long
    # label 0 is the upper moon (y = sin a >= 0 before the jitter), label 1 the lower one
    points, labels = du.labelled_two_moons(4000, noise=0.0, generator=torch.Generator().manual_seed(3), device="cpu")
    assert set(labels.tolist()) == {0, 1}
    upper, lower = points[labels == 0], points[labels == 1]
    torch.testing.assert_close(upper.norm(dim=1), torch.ones(len(upper)))
    torch.testing.assert_close((lower - torch.tensor([1.0, 0.5])).norm(dim=1), torch.ones(len(lower)))
    assert 0.45 < labels.float().mean().item() < 0.55
    with pytest.raises(ValueError, match="n must lie in"):
        du.labelled_two_moons(0, device="cpu")


# --- the conditional network and its trainer -------------------------------------------------------------------------


def test_conditional_denoiser_shapes_null_label_and_seeding():
    make = lambda seed: du.ConditionalDenoiser(2, 100, 3, hidden=16, generator=torch.Generator().manual_seed(seed))
    a, b, c = make(0), make(0), make(1)
    assert a.null_label == 3 and a.T == 100 and a.num_classes == 3
    assert a.label_embedding.weight.shape == (4, a.embed_dim)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.label_embedding.weight, c.label_embedding.weight)
    x, t = torch.randn(5, 2), torch.arange(1, 6)
    outs = [a(x, t, torch.full((5,), y)) for y in range(4)]
    assert all(o.shape == (5, 2) for o in outs)
    assert not torch.allclose(outs[0], outs[3])  # the label changes the prediction
    # the unconditional Denoiser with the same seed has the same MLP weights (the label embedding is drawn after them)
    plain = du.Denoiser(2, 100, hidden=16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(plain.net[0].weight, a.net[0].weight)


def test_conditional_denoiser_rejects_bad_input():
    model = du.ConditionalDenoiser(1, 100, 2, hidden=8, generator=torch.Generator().manual_seed(0))
    x, t = torch.randn(3, 1), torch.tensor([1, 2, 3])
    with pytest.raises(ValueError, match=r"y must lie in 0\.\.2 \(classes 0\.\.1, null label 2\)"):
        model(x, t, torch.tensor([0, 1, 3]))
    with pytest.raises(ValueError, match=r"y must have shape \(3,\)"):
        model(x, t, torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="y must be an integer tensor"):
        model(x, t, torch.zeros(3))
    with pytest.raises(ValueError, match="num_classes must lie in"):
        du.ConditionalDenoiser(1, 100, 0)
    with pytest.raises(TypeError, match="num_classes must be an int"):
        du.ConditionalDenoiser(1, 100, 2.0)
    with pytest.raises(ValueError, match="embed_dim must be even"):
        du.ConditionalDenoiser(1, 100, 2, embed_dim=7)


def test_train_conditional_runs_through_fit_with_label_dropout(monkeypatch):
    data, labels = du.labelled_toy_1d("cpu", torch.float32)
    seen = []
    model = du.ConditionalDenoiser(1, 100, 2, hidden=16, generator=torch.Generator().manual_seed(0))
    forward = model.forward

    def spy(xt, t, y):
        seen.append(y.clone())
        return forward(xt, t, y)

    monkeypatch.setattr(model, "forward", spy)
    calls = []
    fit = du.core.guidance.fit

    def counting_fit(*args, **kwargs):
        calls.append(kwargs)
        return fit(*args, **kwargs)

    monkeypatch.setattr(du.core.guidance, "fit", counting_fit)
    losses = du.train_conditional(model, data / 10, labels, SCHEDULE, steps=20, batch_size=500, p_uncond=0.3,
                                  generator=torch.Generator().manual_seed(0), progress=False)
    assert len(calls) == 1 and calls[0]["steps"] == 20 and losses.shape == (20,)
    y = torch.cat(seen)
    null_share = (y == 2).float().mean().item()
    assert abs(null_share - 0.3) < 5 * math.sqrt(0.3 * 0.7 / y.numel())  # 5 standard errors
    # the same seed gives the same losses (one generator drives batches, dropout, times and noise)
    again = du.ConditionalDenoiser(1, 100, 2, hidden=16, generator=torch.Generator().manual_seed(0))
    losses2 = du.train_conditional(again, data / 10, labels, SCHEDULE, steps=20, batch_size=500, p_uncond=0.3,
                                   generator=torch.Generator().manual_seed(0), progress=False)
    assert torch.equal(losses, losses2)


def test_train_conditional_rejects_bad_input():
    data, labels = du.labelled_toy_1d("cpu", torch.float32)
    model = du.ConditionalDenoiser(1, 100, 2, hidden=8)
    kw = {"steps": 1, "progress": False}
    with pytest.raises(ValueError, match=r"p_uncond must be a probability in \[0, 1\]"):
        du.train_conditional(model, data, labels, SCHEDULE, p_uncond=1.5, **kw)
    with pytest.raises(TypeError, match="p_uncond must be a number"):
        du.train_conditional(model, data, labels, SCHEDULE, p_uncond="0.1", **kw)
    with pytest.raises(TypeError, match="null_label"):
        du.train_conditional(du.Denoiser(1, 100, hidden=8), data, labels, SCHEDULE, **kw)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.1"):
        du.train_conditional(model, data, torch.tensor([0, 1, 2, 0]), SCHEDULE, **kw)
    with pytest.raises(ValueError, match="model was built for T=100"):
        du.train_conditional(model, data, labels, du.NoiseSchedule.linear(50), **kw)
    with pytest.raises(ValueError, match="batch_size must lie in"):
        du.train_conditional(model, data, labels, SCHEDULE, batch_size=0, **kw)


# --- the cached recipes ----------------------------------------------------------------------------------------------


def test_conditional_recipe_is_cached_bitwise(tmp_path, monkeypatch):
    monkeypatch.setenv(recipes.CACHE_ENV_VAR, str(tmp_path))
    fresh = du.train_conditional_toy_1d("cpu", steps=30, cache=False)
    first = du.train_conditional_toy_1d("cpu", steps=30)
    loaded = du.train_conditional_toy_1d("cpu", steps=30)
    assert len(list(tmp_path.glob("train_conditional_toy_1d-*.pt"))) == 1
    for a in (first, loaded):
        assert isinstance(a, du.TrainedConditional) and isinstance(a.model, du.ConditionalDenoiser)
        for (name, pa), pb in zip(fresh.model.state_dict().items(), a.model.state_dict().values()):
            assert torch.equal(pa, pb), name
        assert torch.equal(a.labels, fresh.labels) and torch.equal(a.losses, fresh.losses)
        assert a.scaler == fresh.scaler and torch.equal(a.data, fresh.data)
    # an edit to guidance.py misses the conditional recipes' cache, not the unconditional ones'
    assert "guidance.py" in recipes._CONDITIONAL_SOURCES and "guidance.py" not in recipes._SOURCES
    with pytest.raises(ValueError, match=r"p_uncond must be a probability in \[0, 1\]"):
        du.train_conditional_moons("cpu", p_uncond=-0.1)


def test_trained_conditional_moons_land_in_their_class_at_w3():
    """The cached recipe (trained once per machine): >= 95 % of guided samples nearest to a training point of the
    asked class, for both classes, at w = 3 (seeded)."""
    trained = du.train_conditional_moons("cpu")
    gen = torch.Generator().manual_seed(0)
    for label in (0, 1):
        xT = torch.randn(1000, 2, generator=gen)
        with torch.no_grad():
            out = du.sample(du.guided(trained.model, label, 3.0), trained.schedule, xT, method="ddim", steps=30)
        x = trained.scaler.decode(out.samples)
        nearest = torch.cdist(x, trained.data).argmin(dim=1)
        share = (trained.labels[nearest] == label).float().mean().item()
        assert share >= 0.95, (label, share)


# --- the exact guided flow and the tilted density --------------------------------------------------------------------


def test_tilted_log_density_gradient_is_the_guided_score():
    data, labels = du.labelled_toy_1d("cpu")
    x = torch.linspace(-20, 15, 41, dtype=torch.float64)[:, None].requires_grad_(True)
    for w in (0.0, 2.5):
        (grad,) = torch.autograd.grad(du.tilted_log_density(x, data, labels, 1, w, 0.02).sum(), x)
        s_c = du.conditional_score(x.detach(), data, labels, 1, 0.02)
        s_u = du.mixture_score(x.detach(), data, 0.02)
        torch.testing.assert_close(grad, (1 + w) * s_c - w * s_u, rtol=1e-9, atol=1e-12)


def test_guided_flow_at_w0_keeps_the_conditional_marginal():
    """w = 0 is the exact conditional flow: quantiles of p_gamma(u|c) at the start end as its quantiles at the end."""
    data, labels = du.labelled_toy_1d("cpu")
    sw = du.GuidanceSweep.simulate(data / 10, labels, 0, (0.0, 3.0), gamma_min=0.2, n=400, steps=120)
    assert sw.w1[0] < 2e-3 and sw.w1[1] > 0.2  # not the tilted density at w = 3
    assert sw.samples.shape == (2, 400) and sw.tilted.shape == (2, sw.grid.size)
    np.testing.assert_allclose(np.trapezoid(sw.tilted, sw.grid, axis=1), 1.0, rtol=1e-6)
    # at w = 3 the outer point -1.5 takes more than its tilted share of about 1/2
    assert (sw.samples[1] < -1.0).mean() > 0.7
    with pytest.raises(ValueError, match="gammas must be positive and strictly decreasing"):
        du.guided_flow(torch.zeros(2, 1, dtype=torch.float64), data, labels, 0, 1.0, torch.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="w must be a finite number"):
        du.guided_flow(torch.zeros(2, 1, dtype=torch.float64), data, labels, 0, math.inf, torch.tensor([2.0, 1.0]))
    with pytest.raises(ValueError, match=r"label must lie in 0\.\.1"):
        du.tilted_log_density(torch.zeros(2, 1, dtype=torch.float64), data, labels, 2, 1.0, 0.5)
    with pytest.raises(ValueError, match="ws must be >= -1"):
        du.GuidanceSweep.simulate(data, labels, 0, (-1.5,))


# --- the explorer, headless ------------------------------------------------------------------------------------------


def test_guidance_explorer_and_its_twin_share_the_callback():
    assert "guidance_explorer" in widgets.__all__  # tests/live_lab.py finds explorers by this name
    data, labels = du.labelled_toy_1d("cpu")
    sw = du.GuidanceSweep.simulate(data / 10, labels, 0, (0.0, 1.0, 4.0), gamma_min=0.2, n=200, steps=40)
    box = guidance_explorer(sw)
    slider = box.controls["w"]
    assert slider.value == 0.0 and box.artists.title.get_text().startswith("$w$ = 0:")
    slider.value = 4.0
    art = box.artists
    assert art.title.get_text() == f"$w$ = 4: $W_1$ = {sw.w1[2]:.2f}"
    np.testing.assert_allclose(art.line.get_ydata(), sw.tilted[2])
    assert art.marker.get_xdata()[0] == 4.0 and art.marker.get_ydata()[0] == sw.w1[2]
    heights = art.bars.get_data().values
    np.testing.assert_allclose((heights * np.diff(art.edges)).sum(), 1.0, rtol=1e-12)
    _slider, minus, _plus = box.children[0].children[:3]
    minus.click()
    assert slider.value == 1.0 and art.title.get_text().startswith("$w$ = 1:")
    twin = du.guidance_figure(sw)
    anim = du.guidance_animation(sw, twin)
    anim._func(2)  # the frame for ws[2]: the same callback as the slider
    assert twin.title.get_text() == art.title.get_text().replace("$w$ = 1", "$w$ = 4").replace(
        f"{sw.w1[1]:.2f}", f"{sw.w1[2]:.2f}")
    with pytest.raises(KeyError, match="was not simulated"):
        du.update_guidance(art, sw, 2.0)


# --- devices ---------------------------------------------------------------------------------------------------------


def test_meta_device_shapes():
    meta = torch.device("meta")
    model = du.ConditionalDenoiser(2, 100, 2, hidden=8, device=meta)
    out = model(torch.empty(5, 2, device=meta), torch.ones(5, dtype=torch.long, device=meta),
                torch.zeros(5, dtype=torch.long, device=meta))
    assert out.device.type == "meta" and out.shape == (5, 2)
    data, labels = du.labelled_toy_1d("cpu")
    # labels must be concrete: the number of classes is read from them
    with pytest.raises(ValueError, match="labels must be concrete"):
        du.tilted_log_density(torch.empty(3, 1, dtype=torch.float64, device=meta), data.to(meta),
                              labels.to(meta), 0, 1.0, 0.5)
    points, lab = du.labelled_two_moons(7, device=meta)
    assert points.shape == (7, 2) and lab.shape == (7,) and points.device.type == "meta"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_conditional_training_and_guided_sampling():
    cuda = torch.device("cuda")
    data, labels = du.labelled_two_moons(500, generator=torch.Generator(cuda).manual_seed(0), device=cuda)
    schedule = du.NoiseSchedule.linear(100, device=cuda)
    model = du.ConditionalDenoiser(2, 100, 2, hidden=32, generator=torch.Generator().manual_seed(0), device=cuda)
    losses = du.train_conditional(model, data, labels, schedule, steps=20, generator=torch.Generator(cuda).manual_seed(0),
                                  progress=False)
    assert losses.device.type == "cpu" and torch.isfinite(losses).all()
    with torch.no_grad():
        out = du.sample(du.guided(model, 1, 2.0), schedule, torch.randn(64, 2, device=cuda), method="ddim", steps=10)
    assert out.samples.device.type == "cuda" and out.samples.shape == (64, 2)
    exact = du.guided_flow(torch.randn(8, 2, device=cuda, dtype=torch.float64), data.double(), labels, 0, 1.0,
                           torch.tensor([5.0, 1.0, 0.5]))
    assert exact.device.type == "cuda" and torch.isfinite(exact).all()
