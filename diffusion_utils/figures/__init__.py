"""The figures of the book: matplotlib plots, live ipywidgets explorers, kernel-free browser figures and their JavaScript."""
