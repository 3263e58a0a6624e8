"""Argument checks shared by the math modules: each error names the argument and the allowed range."""

from __future__ import annotations

import numbers

import torch


def check_int(name: str, value: object, *, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int in [low, high], else raise a TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if value < low or (high is not None and value > high):
        allowed = f"[{low}, inf)" if high is None else f"[{low}, {high}]"
        raise ValueError(f"{name} must lie in {allowed}, got {value}")
    return value


def check_open_unit(name: str, value: object, *, high: float = 1.0) -> float:
    """Return ``value`` as a float in the open interval (0, high), else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not 0.0 < value < high:
        raise ValueError(f"{name} must lie in the open interval (0, {high:g}), got {value!r}")
    return value


def check_positive(name: str, value: object) -> float:
    """Return ``value`` as a finite float > 0, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not (value > 0.0 and value < float("inf")):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def is_concrete(x: torch.Tensor) -> bool:
    """True when the tensor holds values that can be inspected (not on the ``meta`` device)."""
    return x.device.type != "meta"


def check_tensor(name: str, x: object, *, min_ndim: int = 0, max_ndim: int | None = None) -> torch.Tensor:
    """Require a finite floating-point tensor with a dimension count in range; raise naming ``name``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must have a floating-point dtype, got {x.dtype}")
    if x.ndim < min_ndim or (max_ndim is not None and x.ndim > max_ndim):
        allowed = f"{min_ndim}" if max_ndim == min_ndim else f"{min_ndim} to {max_ndim if max_ndim is not None else 'any'}"
        raise ValueError(f"{name} must have {allowed} dimensions, got shape {tuple(x.shape)}")
    if is_concrete(x) and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must be finite (no NaN or inf values)")
    return x


def check_same_device(name: str, x: torch.Tensor, ref_name: str, ref: torch.Tensor) -> None:
    """Raise a ValueError naming both arguments when two tensors live on different devices."""
    if x.device != ref.device:
        raise ValueError(
            f"{name} is on {x.device} but {ref_name} is on {ref.device}; move one of them "
            f"with .to({ref_name}.device) so both share a device"
        )


def check_times(name: str, t: object, *, high: int | None, device: torch.device) -> int | torch.Tensor:
    """Validate a time index: an int or an integer tensor with values in [0, high]; tensors go to ``device``."""
    if isinstance(t, torch.Tensor):
        if t.dtype == torch.bool or t.is_floating_point() or t.is_complex():
            raise TypeError(f"{name} must be an int or an integer tensor, got dtype {t.dtype}")
        if is_concrete(t) and t.numel() > 0:
            lo, hi = int(t.min()), int(t.max())
            if lo < 0 or (high is not None and hi > high):
                upper = "inf)" if high is None else f"{high}]"
                raise ValueError(f"{name} must lie in [0, {upper}, got values from {lo} to {hi}")
        return t.to(device=device, dtype=torch.long)
    return check_int(name, t, low=0, high=high)


def check_generator(generator: object, x0: torch.Tensor, name: str = "x0") -> None:
    """A generator must be a torch.Generator (or None) on the device of the data it perturbs (named ``name``)."""
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if generator.device.type != x0.device.type:
        raise ValueError(
            f"generator is on {generator.device} but {name} is on {x0.device}; "
            f"create it with torch.Generator(device={name}.device)"
        )
