import pytest
import torch

import diffusion_utils as du


def test_default_device_without_override(monkeypatch):
    monkeypatch.delenv("DIFFUSION_UTILS_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else None
    device = du.default_device()
    assert isinstance(device, torch.device)
    if expected:
        assert device.type == expected
    elif not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        assert device.type == "cpu"


def test_environment_variable_overrides(monkeypatch):
    monkeypatch.setenv("DIFFUSION_UTILS_DEVICE", "meta")
    assert du.default_device() == torch.device("meta")
    assert du.toy_dataset().device.type == "meta"


def test_bad_environment_value_is_named(monkeypatch):
    monkeypatch.setenv("DIFFUSION_UTILS_DEVICE", "gpu-please")
    with pytest.raises(ValueError, match="DIFFUSION_UTILS_DEVICE"):
        du.default_device()


def test_every_public_helper_names_its_home_chapter():
    import inspect

    from diffusion_utils.figures import widgets

    public = [getattr(du, name) for name in du.__all__] + [getattr(widgets, name) for name in widgets.__all__]
    missing = [obj.__name__ for obj in public if callable(obj) and "chapter" not in (inspect.getdoc(obj) or "").lower()]
    assert not missing, f"docstrings without a home chapter: {missing}"
