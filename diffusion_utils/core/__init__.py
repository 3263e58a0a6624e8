"""The math of the book: chains, schedules, exact mixtures, samplers, training (torch only; no plotting)."""
