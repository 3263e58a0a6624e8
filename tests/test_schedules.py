import math

import pytest
import torch

import diffusion_utils as du


@pytest.mark.parametrize("make", [
    lambda: du.NoiseSchedule.constant(50, 0.04),
    lambda: du.NoiseSchedule.linear(1000),
    lambda: du.NoiseSchedule.cosine(1000),
])
def test_arrays_are_indexed_by_t(make):
    s = make()
    assert s.betas.shape == s.alphas.shape == s.alpha_bars.shape == (s.T + 1,)
    assert s.betas[0].item() == 0.0 and s.alphas[0].item() == 1.0 and s.alpha_bars[0].item() == 1.0
    assert torch.allclose(s.alphas, 1 - s.betas)
    ab = torch.cumprod(1 - s.betas.double(), 0)  # computed in float64, then stored in float32
    assert torch.allclose(s.alpha_bars.double(), ab, rtol=1e-6, atol=0)
    assert bool((s.alpha_bars[1:] < s.alpha_bars[:-1]).all()), "alpha_bar decreases strictly"


def test_constant_schedule_values():
    s = du.NoiseSchedule.constant(200, 0.04)
    assert torch.allclose(s.betas[1:], torch.full((200,), 0.04))
    assert math.isclose(s.alpha_bars[200].item(), 0.96**200, rel_tol=1e-5)
    assert math.isclose(s.alpha_bars[7].item(), 0.96**7, rel_tol=1e-6)


def test_linear_schedule_matches_ho_et_al():
    s = du.NoiseSchedule.linear(1000)
    assert math.isclose(s.betas[1].item(), 1e-4, rel_tol=1e-6)
    assert math.isclose(s.betas[1000].item(), 0.02, rel_tol=1e-6)
    assert math.isclose(s.betas[2].item() - s.betas[1].item(), (0.02 - 1e-4) / 999, rel_tol=1e-4)
    assert math.isclose(s.alpha_bars[1000].item(), 4.0358e-5, rel_tol=1e-3)  # "about 4.04e-5"


def test_cosine_schedule_matches_its_definition():
    T, s_ = 1000, 0.008
    s = du.NoiseSchedule.cosine(T, s=s_)
    f = lambda t: math.cos((t / T + s_) / (1 + s_) * math.pi / 2) ** 2
    for t in (1, 10, 250, 500, 900):
        assert math.isclose(s.alpha_bars[t].item(), f(t) / f(0), rel_tol=1e-5)
    assert math.isclose(s.betas[T].item(), 0.999, rel_tol=1e-6), "the last beta is capped"
    assert s.betas.max().item() <= 0.999 + 1e-7
    capped = du.NoiseSchedule.cosine(T, max_beta=0.5)
    assert math.isclose(capped.betas.max().item(), 0.5, rel_tol=1e-6)


def test_log_snr_and_dtype_device():
    s = du.NoiseSchedule.linear(100, dtype=torch.float64)
    snr = s.log_snr()
    assert math.isinf(snr[0].item()) and snr[0].item() > 0
    ab = s.alpha_bars[50].item()
    assert math.isclose(snr[50].item(), math.log(ab / (1 - ab)), rel_tol=1e-10)
    assert s.betas.dtype == torch.float64
    meta = s.to("meta")
    assert meta.device.type == "meta" and meta.T == 100


def test_from_betas_prepends_beta_zero():
    s = du.NoiseSchedule.from_betas([0.5, 0.5])
    assert s.T == 2 and s.betas.tolist() == [0.0, 0.5, 0.5]
    assert s.alpha_bars.tolist() == [1.0, 0.5, 0.25]


@pytest.mark.parametrize("call, error, words", [
    (lambda: du.NoiseSchedule.constant(0, 0.1), ValueError, "T must lie in [1, inf)"),
    (lambda: du.NoiseSchedule.constant(10.0, 0.1), TypeError, "T must be an int"),
    (lambda: du.NoiseSchedule.constant(True, 0.1), TypeError, "T must be an int"),
    (lambda: du.NoiseSchedule.constant(10, 0.0), ValueError, "beta must lie in the open interval (0, 1)"),
    (lambda: du.NoiseSchedule.constant(10, 1.0), ValueError, "beta must lie in the open interval (0, 1)"),
    (lambda: du.NoiseSchedule.constant(10, float("nan")), ValueError, "beta must lie"),
    (lambda: du.NoiseSchedule.constant(10, "0.1"), TypeError, "beta must be a real number"),
    (lambda: du.NoiseSchedule.linear(10, beta_start=-1e-4), ValueError, "beta_start"),
    (lambda: du.NoiseSchedule.linear(10, beta_end=2.0), ValueError, "beta_end"),
    (lambda: du.NoiseSchedule.cosine(10, s=-0.1), ValueError, "s must be a finite number > 0"),
    (lambda: du.NoiseSchedule.cosine(10, max_beta=1.0), ValueError, "max_beta"),
    (lambda: du.NoiseSchedule.from_betas([0.1, 1.0]), ValueError, "betas[1:] must lie in the open interval (0, 1)"),
    (lambda: du.NoiseSchedule.from_betas([]), ValueError, "betas must be a non-empty"),
    (lambda: du.NoiseSchedule(torch.tensor([0.1, 0.2])), ValueError, "betas[0] must be 0"),
    (lambda: du.NoiseSchedule(torch.tensor([0, 1])), TypeError, "floating-point"),
])
def test_bad_schedule_arguments_raise_named_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)
