"""Reproducible training scripts for the offline default models (they read ../shared/data/)."""
