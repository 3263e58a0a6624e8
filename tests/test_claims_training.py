"""Claims of the chapter 'Training a denoiser' that are checked here rather than on the page."""

import torch

import diffusion_utils as du


def test_train_toy_1d_packages_the_chapters_training_cell():
    """'du.train_toy_1d packages the cell below' (training.md) and 'gives the network of the last chapter (same
    seed, same recipe)' (sampling.md): both give the same losses and the same weights (a short run)."""
    steps = 30
    packaged = du.train_toy_1d("cpu", steps=steps)
    # the chapter's training cell, with fewer steps
    schedule = du.NoiseSchedule.linear(1000, device="cpu")
    data = du.toy_dataset("cpu")
    scaler = du.DataScaler.fit(data)
    x0 = scaler.encode(data)[:, None]
    model = du.Denoiser(1, schedule.T, generator=torch.Generator().manual_seed(0), device="cpu")
    losses = du.train_denoiser(model, x0, schedule, steps=steps, lr=1e-2,
                               generator=torch.Generator(device="cpu").manual_seed(0), progress=False)
    torch.testing.assert_close(packaged.scaler.encode(packaged.data), x0)
    torch.testing.assert_close(packaged.losses, losses)
    for a, b in zip(packaged.model.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b)
