"""Seeded scripts that build the FAQ grouping weights from ../shared/data (run by hand, not at import)."""
