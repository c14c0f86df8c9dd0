"""gesticulate — speech audio and one photo in, a video of that person speaking and gesturing out."""

__version__ = "0.1.0"
