"""diffusion_utils: the small package behind the interactive lecture notes on diffusion models."""

from .core.data import DATASET, DataScaler, toy_dataset, two_moons
from .core.device import default_device
from .core.elbo import ElboTerms, elbo_terms, elbo_trajectory, gaussian_kl, gaussian_log_prob
from .core.flows import interpolant_alpha_bar, marginal_velocity
from .core.forward import FixedFactorChain, forward_chain, marginal
from .core.guidance import ExactConditionalDenoiser, GuidedModel, class_posterior, conditional_score, guided
from .core.likelihood import LikelihoodResult, logsnr_grid, model_score, ode_log_likelihood, probability_flow
from .core.memorisation import memorised_fraction, nearest_distance, train_on_points
from .core.metrics import sliced_wasserstein, wasserstein_1d
from .core.mixture import empirical_distribution, marginal_density, marginal_modes, mixture_density
from .core.models import Denoiser, sinusoidal_embedding
from .core.recipes import TrainedModel, train_toy_1d, train_two_moons
from .core.reverse import (
    ExactDenoiser,
    ReverseCoefficients,
    ancestral_sample,
    ddpm_step,
    posterior,
    predict_x0,
    reverse_coefficients,
)
from .core.samplers import GRIDS, METHODS, SampleResult, alpha_bars64, ddim_invert, ode_limit_1d, sample, time_grid
from .core.schedules import NoiseSchedule
from .core.scores import mixture_denoiser, mixture_log_density, mixture_posterior, mixture_score
from .core.text import sci
from .core.training import diffusion_loss, fit, train_denoiser
from .figures.browser_figures import fixed_factor_html, marginal_html, sampler_playground_html
from .figures.noise_figures import EtaArtists, EtaSweep, eta_animation, eta_figure, update_eta
from .figures.plotting import (
    PALETTE,
    FixedFactorArtists,
    ForwardHistogram,
    HistogramArtists,
    ReverseHistogram,
    animation_html,
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
from .figures.score_figures import (
    ScoreField,
    ScoreFieldArtists,
    ScoreFrame,
    score_field_animation,
    score_field_figure,
    update_score_field,
)

__all__ = [
    "DATASET",
    "GRIDS",
    "METHODS",
    "PALETTE",
    "DataScaler",
    "Denoiser",
    "ElboTerms",
    "EtaArtists",
    "EtaSweep",
    "ExactConditionalDenoiser",
    "ExactDenoiser",
    "FixedFactorArtists",
    "FixedFactorChain",
    "ForwardHistogram",
    "GuidedModel",
    "HistogramArtists",
    "LikelihoodResult",
    "NoiseSchedule",
    "ReverseCoefficients",
    "ReverseHistogram",
    "SampleResult",
    "ScoreField",
    "ScoreFieldArtists",
    "ScoreFrame",
    "TrainedModel",
    "alpha_bars64",
    "ancestral_sample",
    "animation_html",
    "class_posterior",
    "conditional_score",
    "ddim_invert",
    "ddpm_step",
    "default_device",
    "diffusion_loss",
    "elbo_terms",
    "elbo_trajectory",
    "empirical_distribution",
    "eta_animation",
    "eta_figure",
    "fit",
    "fixed_factor_figure",
    "fixed_factor_html",
    "forward_chain",
    "gaussian_kl",
    "gaussian_log_prob",
    "guided",
    "histogram_animation",
    "histogram_figure",
    "interpolant_alpha_bar",
    "logsnr_grid",
    "marginal",
    "marginal_density",
    "marginal_html",
    "marginal_modes",
    "marginal_velocity",
    "memorised_fraction",
    "mixture_denoiser",
    "mixture_density",
    "mixture_log_density",
    "mixture_posterior",
    "mixture_score",
    "model_score",
    "nearest_distance",
    "ode_limit_1d",
    "ode_log_likelihood",
    "plot_density_heatmap",
    "plot_paths",
    "posterior",
    "predict_x0",
    "probability_flow",
    "reverse_coefficients",
    "sample",
    "sampler_playground_html",
    "save_gif",
    "sci",
    "score_field_animation",
    "score_field_figure",
    "sinusoidal_embedding",
    "sliced_wasserstein",
    "time_grid",
    "to_numpy",
    "toy_dataset",
    "train_denoiser",
    "train_on_points",
    "train_toy_1d",
    "train_two_moons",
    "two_moons",
    "update_eta",
    "update_fixed_factor",
    "update_histogram",
    "update_score_field",
    "wasserstein_1d",
]
__version__ = "0.1.0"
