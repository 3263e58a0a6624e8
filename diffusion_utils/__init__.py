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
    "default_device",
    "DATASET",
    "toy_dataset",
    "NoiseSchedule",
    "FixedFactorChain",
    "forward_chain",
    "marginal",
    "mixture_density",
    "empirical_distribution",
    "marginal_density",
    "PALETTE",
    "to_numpy",
    "plot_paths",
    "plot_density_heatmap",
    "ForwardHistogram",
    "HistogramArtists",
    "histogram_figure",
    "update_histogram",
    "histogram_animation",
    "save_gif",
    "FixedFactorArtists",
    "fixed_factor_figure",
    "update_fixed_factor",
]
__version__ = "0.1.0"
