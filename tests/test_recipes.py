"""The on-disk cache of the book's trained models (diffusion_utils/core/recipes.py, chapter: Training a denoiser)."""

from pathlib import Path

import pytest
import torch

import diffusion_utils as du
from diffusion_utils.core import recipes

STEPS = 50  # a short run: the cache does not care how long the training was


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of its own, named by $DIFFUSION_UTILS_CACHE."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(recipes.CACHE_ENV_VAR, str(folder))
    return folder


@pytest.fixture
def count_fits(monkeypatch):
    """How many times a recipe really trained (calls of recipes._fit)."""
    calls = []
    fit = recipes._fit

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return fit(*args, **kwargs)

    monkeypatch.setattr(recipes, "_fit", counting)
    return calls


def assert_same(a: du.TrainedModel, b: du.TrainedModel) -> None:
    """Bitwise the same model, schedule, scaler, data and losses."""
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert sa[name].device == sb[name].device and torch.equal(sa[name], sb[name]), name
    assert torch.equal(a.losses, b.losses) and a.losses.device.type == "cpu"
    assert torch.equal(a.data, b.data) and a.data.device == b.data.device
    assert torch.equal(a.schedule.betas, b.schedule.betas) and torch.equal(a.schedule.alpha_bars, b.schedule.alpha_bars)
    assert a.scaler == b.scaler
    assert a.model.training is False and b.model.training is False


def cached_files(cache):
    """The cache folder's files, temporary ones included, without the lock files (one per model, kept empty)."""
    lock_files = [p for p in cache.iterdir() if p.name.endswith(".pt.lock")]
    assert all(p.name.startswith(".") and p.stat().st_size == 0 for p in lock_files)
    return sorted(p for p in cache.iterdir() if p not in lock_files)


@pytest.mark.parametrize(
    "recipe, kwargs",
    [(du.train_toy_1d, {}), (du.train_two_moons, {"num_points": 300})],
    ids=["toy_1d", "two_moons"],
)
def test_a_cached_model_is_bitwise_a_fresh_one(cache, count_fits, recipe, kwargs, capsys):
    fresh = recipe("cpu", steps=STEPS, cache=False, **kwargs)
    assert not cache.exists() and len(count_fits) == 1
    first = recipe("cpu", steps=STEPS, **kwargs)  # trains and writes the cache
    files = cached_files(cache)
    assert len(files) == 1 and files[0].suffix == ".pt" and len(count_fits) == 2
    loaded = recipe("cpu", steps=STEPS, progress=True, **kwargs)  # loads it
    assert len(count_fits) == 2, "the second call trained again instead of loading the cache"
    assert "loaded from the on-disk cache" in capsys.readouterr().out
    assert_same(fresh, first)
    assert_same(fresh, loaded)
    # the loaded network computes what the fresh one computes
    x, t = torch.randn(7, fresh.data.shape[1]), torch.arange(1, 8)
    with torch.no_grad():
        assert torch.equal(fresh.model(x, t), loaded.model(x, t))


def test_another_argument_or_other_code_misses_the_cache(cache, count_fits, monkeypatch):
    du.train_toy_1d("cpu", steps=STEPS)
    du.train_toy_1d("cpu", steps=STEPS + 1)
    du.train_toy_1d("cpu", steps=STEPS, seed=1)
    du.train_two_moons("cpu", steps=STEPS, num_points=300)
    du.train_two_moons("cpu", steps=STEPS, num_points=301)
    assert len(count_fits) == 5 and len(cached_files(cache)) == 5
    du.train_toy_1d("cpu", steps=STEPS, seed=1)
    assert len(count_fits) == 5
    # an edit to one of the modules that decide the weights (its hash changes): trained afresh
    monkeypatch.setattr(recipes, "_source_hash", lambda: "edited")
    du.train_toy_1d("cpu", steps=STEPS, seed=1)
    assert len(count_fits) == 6 and len(cached_files(cache)) == 6


def test_a_corrupt_or_foreign_file_is_trained_again_and_overwritten(cache, count_fits):
    fresh = du.train_toy_1d("cpu", steps=STEPS)
    (path,) = cached_files(cache)
    for junk in (b"", b"not a torch file", path.read_bytes()[:200]):
        path.write_bytes(junk)
        again = du.train_toy_1d("cpu", steps=STEPS)
        assert_same(fresh, again)
    assert len(count_fits) == 4
    du.train_toy_1d("cpu", steps=STEPS)  # the overwritten file is good
    assert len(count_fits) == 4
    # a file that loads but holds another key (or a network of another shape) is not used either
    torch.save({"key": "something else"}, path)
    du.train_toy_1d("cpu", steps=STEPS)
    assert len(count_fits) == 5
    assert [p.name for p in cached_files(cache)] == [path.name], "temporary files were left behind"


@pytest.mark.parametrize("value", ["", "off", "OFF", "  "])
def test_the_environment_variable_turns_the_cache_off(tmp_path, monkeypatch, count_fits, value):
    monkeypatch.setenv(recipes.CACHE_ENV_VAR, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert recipes.cache_dir() is None
    du.train_toy_1d("cpu", steps=STEPS)
    du.train_toy_1d("cpu", steps=STEPS)
    assert len(count_fits) == 2
    assert list(tmp_path.iterdir()) == []


def test_cache_false_writes_nothing(cache, count_fits):
    du.train_two_moons("cpu", steps=STEPS, num_points=300, cache=False)
    assert not cache.exists()


def test_default_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(recipes.CACHE_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert recipes.cache_dir() == tmp_path / "xdg" / "diffusion_utils"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert recipes.cache_dir() == tmp_path / "home" / ".cache" / "diffusion_utils"
    monkeypatch.setenv(recipes.CACHE_ENV_VAR, str(tmp_path / "mine"))
    assert recipes.cache_dir() == tmp_path / "mine"


def test_an_unwritable_folder_still_returns_the_model(tmp_path, monkeypatch, count_fits):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(recipes.CACHE_ENV_VAR, str(blocker / "cache"))
    trained = du.train_toy_1d("cpu", steps=STEPS)
    assert trained.losses.shape == (STEPS,) and len(count_fits) == 1


def test_the_key_names_everything_that_decides_the_weights(cache):
    path, key = recipes._cache_path("train_toy_1d", {"seed": 0, "steps": STEPS}, torch.device("cpu"))
    assert path.parent == cache and path.name.startswith("train_toy_1d-")
    for part in ('"device": "cpu"', f'"torch": "{torch.__version__}"', '"seed": 0', '"steps": 50', '"sources": "'):
        assert part in key, part
    other, _ = recipes._cache_path("train_toy_1d", {"seed": 0, "steps": STEPS}, torch.device("cuda"))
    assert other != path
    assert recipes._cache_path("train_toy_1d", {}, torch.device("meta")) is None
    for name in recipes._SOURCES:
        assert (Path(recipes.__file__).parent / name).is_file(), name


def test_bad_arguments_are_named(cache):
    with pytest.raises(TypeError, match="cache must be True or False"):
        du.train_toy_1d("cpu", steps=STEPS, cache="yes")
    with pytest.raises(ValueError, match="steps must lie in"):
        du.train_toy_1d("cpu", steps=0)
    with pytest.raises(TypeError, match="seed must be an int"):
        du.train_two_moons("cpu", steps=STEPS, seed=1.5)
    with pytest.raises(ValueError, match="seed must lie in"):
        du.train_toy_1d("cpu", steps=STEPS, seed=-1)
    with pytest.raises(ValueError, match="num_points must lie in"):
        du.train_two_moons("cpu", steps=STEPS, num_points=1)
    assert not cache.exists()


def test_train_on_points_is_cached_bitwise_and_keyed_by_data_arguments_and_start(cache):
    """The memorisation chapter's trainer: a second call loads what the first trained (same bits as cache=False); other
    data, another argument or another starting network is a miss (a new file)."""
    data = du.two_moons(16, generator=torch.Generator().manual_seed(16), device="cpu")
    first = du.train_on_points(data, steps=STEPS, seed=4, batch_size=32)
    again = du.train_on_points(data, steps=STEPS, seed=4, batch_size=32)
    assert_same(first, again)
    assert_same(first, du.train_on_points(data, steps=STEPS, seed=4, batch_size=32, cache=False))
    more = du.train_on_points(data, steps=STEPS, seed=4, batch_size=32, start=first)
    assert_same(more, du.train_on_points(data, steps=STEPS, seed=4, batch_size=32, start=again))
    assert_same(more, du.train_on_points(data, steps=STEPS, seed=4, batch_size=32, start=first, cache=False))
    assert len(list(cache.glob("train_on_points-*.pt"))) == 2
    du.train_on_points(data + 1e-3, steps=STEPS, seed=4, batch_size=32)
    du.train_on_points(data, steps=STEPS, seed=4, batch_size=32, depth=2)
    du.train_on_points(data, steps=STEPS, seed=4, batch_size=32, start=more)
    assert len(list(cache.glob("train_on_points-*.pt"))) == 5
