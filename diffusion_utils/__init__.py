"""diffusion_utils: the small package behind the interactive lecture notes on diffusion models."""

from .data import DATASET, toy_dataset
from .device import default_device
from .forward import FixedFactorChain, forward_chain, marginal
from .mixture import empirical_distribution, marginal_density, mixture_density
from .plotting import (
    PALETTE,
    FixedFactorArtists,
    ForwardHistogram,
    HistogramArtists,
    fixed_factor_figure,
    histogram_animation,
    histogram_figure,
    plot_density_heatmap,
    plot_paths,
    save_gif,
    to_numpy,
    update_fixed_factor,
    update_histogram,
)
from .schedules import NoiseSchedule

__all__ = [
    "DATASET",
    "PALETTE",
    "FixedFactorArtists",
    "FixedFactorChain",
    "ForwardHistogram",
    "HistogramArtists",
    "NoiseSchedule",
    "default_device",
    "empirical_distribution",
    "fixed_factor_figure",
    "forward_chain",
    "histogram_animation",
    "histogram_figure",
    "marginal",
    "marginal_density",
    "mixture_density",
    "plot_density_heatmap",
    "plot_paths",
    "save_gif",
    "to_numpy",
    "toy_dataset",
    "update_fixed_factor",
    "update_histogram",
]
__version__ = "0.1.0"
