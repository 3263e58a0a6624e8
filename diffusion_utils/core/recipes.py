"""The book's two trained denoisers as one call each, so later chapters and tests rebuild them (home chapter: Training a denoiser).

Each recipe trains once per machine: the result is kept on disk (:func:`cache_dir`) under a key made of the recipe's
name and arguments, the device type, the torch version and the source of the modules that determine the weights, so
a change to any of them trains afresh. A model from the cache is bitwise the one a fresh training gives.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from ._validate import check_int
from .data import DataScaler, labelled_toy_1d, labelled_two_moons, toy_dataset, two_moons
from .device import default_device
from .guidance import ConditionalDenoiser, train_conditional
from .models import Denoiser
from .schedules import NoiseSchedule
from .training import train_denoiser

__all__ = [
    "CACHE_ENV_VAR",
    "TrainedConditional",
    "TrainedModel",
    "cache_dir",
    "train_conditional_moons",
    "train_conditional_toy_1d",
    "train_toy_1d",
    "train_two_moons",
]

#: Folder of the trained-model cache; an empty value or "off" turns the cache off.
CACHE_ENV_VAR = "DIFFUSION_UTILS_CACHE"
# The modules whose code decides the trained weights; any change to one of them misses the cache.
_SOURCES = ("data.py", "memorisation.py", "models.py", "recipes.py", "schedules.py", "training.py")
# ... and, for the conditional recipes, also the module of the conditional network and its trainer.
_CONDITIONAL_SOURCES = (*_SOURCES, "guidance.py")
_FORMAT = 1  # version of the file layout below


class TrainedModel(NamedTuple):
    """A trained noise predictor with what it was trained on (chapter: Training a denoiser)."""

    model: nn.Module
    schedule: NoiseSchedule
    scaler: DataScaler  #: model units = scaler.encode(data units)
    data: torch.Tensor  #: training data in data units, (N, d)
    losses: torch.Tensor  #: loss of every training step, on the CPU


def cache_dir() -> Path | None:
    """Folder of the trained-model cache, or None when it is off (chapter: Training a denoiser).

    ``$DIFFUSION_UTILS_CACHE`` if set (empty or "off": no cache), else ``$XDG_CACHE_HOME/diffusion_utils``, else
    ``~/.cache/diffusion_utils``.
    """
    value = os.environ.get(CACHE_ENV_VAR)
    if value is not None:
        value = value.strip()
        return None if value.lower() in ("", "off") else Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "diffusion_utils"


class TrainedConditional(NamedTuple):
    """A trained conditional noise predictor eps(x_t, t, y) with its labelled data (chapter: Conditioning and guidance)."""

    model: nn.Module  #: a ConditionalDenoiser; label model.null_label is "no condition"
    schedule: NoiseSchedule
    scaler: DataScaler  #: model units = scaler.encode(data units)
    data: torch.Tensor  #: training data in data units, (N, d)
    labels: torch.Tensor  #: class of each training point, (N,) in 0..C-1
    losses: torch.Tensor  #: loss of every training step, on the CPU


def _source_hash(sources: tuple[str, ...] = _SOURCES) -> str:
    """SHA-256 of the source files in ``sources`` (read on every call, so an edited module misses the cache)."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in sources:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _cache_path(
    recipe: str, args: dict, device: torch.device, sources: tuple[str, ...] = _SOURCES
) -> tuple[Path, str] | None:
    """(file, key) of one trained model, or None when the cache is off or the sources cannot be read."""
    folder = cache_dir()
    if folder is None or device.type == "meta":
        return None
    try:
        sources = _source_hash() if sources == _SOURCES else _source_hash(sources)
    except OSError:
        return None
    key = json.dumps(
        {
            "format": _FORMAT,
            "recipe": recipe,
            "args": args,
            "device": device.type,  # training on another device type gives other weights
            "dtype": str(torch.get_default_dtype()),
            "torch": torch.__version__,
            "sources": sources,
        },
        sort_keys=True,
    )
    return folder / f"{recipe}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.pt", key


def _save(path: Path, key: str, trained: TrainedModel | TrainedConditional, model_args: dict) -> None:
    """Write atomically (a temp file in the same folder, then os.replace); a folder that cannot be written is skipped."""
    scaler = trained.scaler
    payload = {
        "key": key,
        "model_args": model_args,
        "state_dict": {name: value.detach().cpu() for name, value in trained.model.state_dict().items()},
        "betas": trained.schedule.betas.detach().cpu(),
        "shift": scaler.shift,
        "scale": scaler.scale,
        "data": trained.data.detach().cpu(),
        "losses": trained.losses.detach().cpu(),
    }
    if isinstance(trained, TrainedConditional):
        payload["labels"] = trained.labels.detach().cpu()
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own per writer (two processes training at once both write; the last replace wins), created
        # with the umask's permissions so that a shared cache folder stays readable.
        tmp = path.parent / f".{path.stem}-{os.getpid()}-{secrets.token_hex(4)}.tmp"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as f:
            torch.save(payload, f)
        os.replace(tmp, path)
        tmp = None
    except Exception:  # noqa: BLE001 - a full disk or a read-only folder: no cache this time
        return  # the caller returns the trained model all the same
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _build_denoiser(model_args: dict, generator: torch.Generator) -> nn.Module:
    """The network of a Denoiser recipe, as the recipe built it before training."""
    dim, T, hidden = (model_args[k] for k in ("dim", "T", "hidden"))
    return Denoiser(dim, T, hidden=hidden, depth=model_args.get("depth", 3), generator=generator)


def _build_conditional(model_args: dict, generator: torch.Generator) -> nn.Module:
    """The network of a conditional recipe, as the recipe built it before training."""
    dim, T, num_classes, hidden = (model_args[k] for k in ("dim", "T", "num_classes", "hidden"))
    return ConditionalDenoiser(dim, T, num_classes, hidden=hidden, depth=model_args.get("depth", 3),
                               generator=generator)


def _load(
    path: Path,
    key: str,
    device: torch.device,
    seed: int,
    build: Callable[[dict, torch.Generator], nn.Module] = _build_denoiser,
) -> TrainedModel | TrainedConditional | None:
    """The cached model on ``device``, or None when the file is missing, unreadable, corrupt or for another key.

    ``build(model_args, generator)`` makes the untrained network that the weights are loaded into.
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("key") != key:
            return None
        dim, T = payload["model_args"]["dim"], payload["model_args"]["T"]
        # The same construction as in the recipe (the same generator, so the global RNG is left as a fresh training
        # leaves it).
        model = build(payload["model_args"], torch.Generator().manual_seed(seed))
        model.load_state_dict(payload["state_dict"], strict=True)
        model.to(device).eval()
        shift = payload["shift"]
        scaler = DataScaler(tuple(shift) if isinstance(shift, (tuple, list)) else shift, payload["scale"])
        schedule = NoiseSchedule(payload["betas"].to(device))
        losses = payload["losses"]
        data = payload["data"].to(device)
        if schedule.T != T or data.ndim != 2 or data.shape[1] != dim or losses.ndim != 1:
            return None
        if "labels" in payload:
            labels = payload["labels"].to(device)
            if labels.shape != data.shape[:1]:
                return None
            return TrainedConditional(model, schedule, scaler, data, labels, losses)
        return TrainedModel(model, schedule, scaler, data, losses)
    except Exception:  # noqa: BLE001 - any unreadable or corrupt file is ignored and trained afresh
        return None


def _cached(
    recipe: str,
    args: dict,
    device: torch.device,
    train: Callable[[], TrainedModel | TrainedConditional],
    *,
    model_args: dict,
    seed: int,
    cache: bool,
    progress: bool,
    build: Callable[[dict, torch.Generator], nn.Module] = _build_denoiser,
    sources: tuple[str, ...] = _SOURCES,
) -> TrainedModel | TrainedConditional:
    """``train()``, or its result from the cache; a fresh result is written to the cache.

    ``build`` makes the untrained network a cached file is loaded into (default: a Denoiser from ``model_args``);
    ``sources`` are the modules (in this folder) whose code decides the weights.
    """
    if not isinstance(cache, bool):
        raise TypeError(f"cache must be True or False, got {cache!r}")
    where = _cache_path(recipe, args, device, sources) if cache else None
    if where is None:
        return train()
    path, key = where
    # One process trains a given model at a time: a second one (the build's chapters run side by side) waits for
    # the first and then loads its result instead of training the same weights again.
    with _exclusive(path):
        if path.is_file():
            trained = _load(path, key, device, seed, build)
            if trained is not None:
                if progress:
                    print(f"{recipe}: loaded from the on-disk cache (trained before by the same code and arguments)")
                return trained
        trained = train()
        _save(path, key, trained, model_args)
    return trained


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an advisory lock on ``path``'s lock file (POSIX); where locking is unavailable, do nothing."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock, at worst two processes train the same model
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(f".{path.name}.lock"), "a")  # noqa: SIM115 - closed below
    except OSError:  # a folder that cannot be written: no cache file will be written either
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fit(data: torch.Tensor, *, T: int, hidden: int, steps: int, lr: float, seed: int, progress: bool) -> TrainedModel:
    schedule = NoiseSchedule.linear(T, device=data.device)
    scaler = DataScaler.fit(data)
    model = Denoiser(data.shape[1], T, hidden=hidden, generator=torch.Generator().manual_seed(seed), device=data.device)
    generator = torch.Generator(device=data.device).manual_seed(seed)
    losses = train_denoiser(
        model, scaler.encode(data), schedule, steps=steps, lr=lr, generator=generator, progress=progress
    )
    return TrainedModel(model, schedule, scaler, data, losses)


def _check_common(seed: object, steps: object) -> tuple[int, int]:
    return check_int("seed", seed, low=0, high=2**63 - 2), check_int("steps", steps, low=1)


def train_toy_1d(
    device: torch.device | str | None = None,
    *,
    seed: int = 0,
    steps: int = 6000,
    progress: bool = False,
    cache: bool = True,
) -> TrainedModel:
    """D = {-15, -5, 1, 10} standardised, linear schedule T = 1000, MLP 128 x 3, Adam 1e-2 (chapter: Training a denoiser).

    With ``cache`` (default) the result is kept on disk and loaded on later calls with the same arguments (see
    :func:`cache_dir`).
    """
    seed, steps = _check_common(seed, steps)
    device = default_device() if device is None else torch.device(device)
    T, hidden, lr = 1000, 128, 1e-2

    def train() -> TrainedModel:
        data = toy_dataset(device)[:, None]
        return _fit(data, T=T, hidden=hidden, steps=steps, lr=lr, seed=seed, progress=progress)

    args = {"seed": seed, "steps": steps, "T": T, "hidden": hidden, "lr": lr}
    return _cached(
        "train_toy_1d",
        args,
        device,
        train,
        model_args={"dim": 1, "T": T, "hidden": hidden},
        seed=seed,
        cache=cache,
        progress=progress,
    )


def train_two_moons(
    device: torch.device | str | None = None,
    *,
    seed: int = 0,
    num_points: int = 8000,
    steps: int = 4000,
    progress: bool = False,
    cache: bool = True,
) -> TrainedModel:
    """Two moons (``num_points`` drawn with ``seed``), same recipe as the 1-D model (chapter: Training a denoiser).

    With ``cache`` (default) the result is kept on disk and loaded on later calls with the same arguments (see
    :func:`cache_dir`).
    """
    seed, steps = _check_common(seed, steps)
    num_points = check_int("num_points", num_points, low=2)
    device = default_device() if device is None else torch.device(device)
    T, hidden, lr = 1000, 128, 1e-2

    def train() -> TrainedModel:
        data = two_moons(num_points, generator=torch.Generator(device=device).manual_seed(seed), device=device)
        return _fit(data, T=T, hidden=hidden, steps=steps, lr=lr, seed=seed + 1, progress=progress)

    args = {"seed": seed, "num_points": num_points, "steps": steps, "T": T, "hidden": hidden, "lr": lr}
    return _cached(
        "train_two_moons",
        args,
        device,
        train,
        model_args={"dim": 2, "T": T, "hidden": hidden},
        seed=seed + 1,
        cache=cache,
        progress=progress,
    )


def _fit_conditional(
    data: torch.Tensor, labels: torch.Tensor, *, T: int, hidden: int, steps: int, lr: float, p_uncond: float, seed: int,
    progress: bool,
) -> TrainedConditional:
    schedule = NoiseSchedule.linear(T, device=data.device)
    scaler = DataScaler.fit(data)
    num_classes = int(labels.max()) + 1
    model = ConditionalDenoiser(data.shape[1], T, num_classes, hidden=hidden,
                                generator=torch.Generator().manual_seed(seed), device=data.device)
    generator = torch.Generator(device=data.device).manual_seed(seed)
    losses = train_conditional(model, scaler.encode(data), labels, schedule, steps=steps, lr=lr, p_uncond=p_uncond,
                               generator=generator, progress=progress)
    return TrainedConditional(model, schedule, scaler, data, labels, losses)


def _check_p_uncond(p_uncond: object) -> float:
    if isinstance(p_uncond, bool) or not isinstance(p_uncond, (int, float)):
        raise TypeError(f"p_uncond must be a number in [0, 1] (share of null labels), got {p_uncond!r}")
    if not 0.0 <= float(p_uncond) <= 1.0:
        raise ValueError(f"p_uncond must be a probability in [0, 1] (share of null labels), got {p_uncond!r}")
    return float(p_uncond)


def train_conditional_toy_1d(
    device: torch.device | str | None = None,
    *,
    seed: int = 0,
    steps: int = 4000,
    p_uncond: float = 0.2,
    progress: bool = False,
    cache: bool = True,
) -> TrainedConditional:
    """The labelled D (classes 0, 1, 0, 1) standardised, linear T = 1000, conditional MLP 128 x 3, Adam 1e-2, label dropout.

    Chapter: Conditioning and guidance. With ``cache`` (default) the result is kept on disk and loaded on later calls
    with the same arguments (see :func:`cache_dir`).
    """
    seed, steps = _check_common(seed, steps)
    p_uncond = _check_p_uncond(p_uncond)
    device = default_device() if device is None else torch.device(device)
    T, hidden, lr = 1000, 128, 1e-2

    def train() -> TrainedConditional:
        data, labels = labelled_toy_1d(device, torch.float32)
        return _fit_conditional(data, labels, T=T, hidden=hidden, steps=steps, lr=lr, p_uncond=p_uncond, seed=seed,
                                progress=progress)

    args = {"seed": seed, "steps": steps, "T": T, "hidden": hidden, "lr": lr, "p_uncond": p_uncond}
    return _cached(
        "train_conditional_toy_1d",
        args,
        device,
        train,
        model_args={"dim": 1, "T": T, "num_classes": 2, "hidden": hidden},
        seed=seed,
        cache=cache,
        progress=progress,
        build=_build_conditional,
        sources=_CONDITIONAL_SOURCES,
    )


def train_conditional_moons(
    device: torch.device | str | None = None,
    *,
    seed: int = 0,
    num_points: int = 8000,
    steps: int = 4000,
    p_uncond: float = 0.2,
    progress: bool = False,
    cache: bool = True,
) -> TrainedConditional:
    """Labelled two moons (``num_points`` drawn with ``seed``), same recipe as the conditional 1-D model.

    Chapter: Conditioning and guidance. Label 0 is the upper moon, 1 the lower one. With ``cache`` (default) the
    result is kept on disk and loaded on later calls with the same arguments (see :func:`cache_dir`).
    """
    seed, steps = _check_common(seed, steps)
    p_uncond = _check_p_uncond(p_uncond)
    num_points = check_int("num_points", num_points, low=2)
    device = default_device() if device is None else torch.device(device)
    T, hidden, lr = 1000, 128, 1e-2

    def train() -> TrainedConditional:
        gen = torch.Generator(device=device).manual_seed(seed)
        data, labels = labelled_two_moons(num_points, generator=gen, device=device)
        return _fit_conditional(data, labels, T=T, hidden=hidden, steps=steps, lr=lr, p_uncond=p_uncond,
                                seed=seed + 1, progress=progress)

    args = {"seed": seed, "num_points": num_points, "steps": steps, "T": T, "hidden": hidden, "lr": lr,
            "p_uncond": p_uncond}
    return _cached(
        "train_conditional_moons",
        args,
        device,
        train,
        model_args={"dim": 2, "T": T, "num_classes": 2, "hidden": hidden},
        seed=seed + 1,
        cache=cache,
        progress=progress,
        build=_build_conditional,
        sources=_CONDITIONAL_SOURCES,
    )
