"""Kikimimi (聞き耳): social media listening and response for brands that sell in Japan and abroad."""

__version__ = "0.1.0"
