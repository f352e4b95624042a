"""Model cards: the short Markdown file written beside every shipped model's weights."""

from __future__ import annotations

from pathlib import Path

__all__ = ["WEIGHTS_DIR", "render_card"]

WEIGHTS_DIR = Path(__file__).parent / "weights"


def render_card(title: str, summary: str, card: dict) -> str:
    """`# title`, a summary paragraph, then one bullet per card entry (lists and dicts nested)."""
    lines = [f"# {title}", "", summary, ""]
    for key, value in card.items():
        if isinstance(value, list):
            lines += [f"- **{key}**:"] + [f"  - {v}" for v in value]
        elif isinstance(value, dict):
            lines += [f"- **{key}**:"] + [f"  - {k}: {v}" for k, v in value.items()]
        else:
            lines.append(f"- **{key}**: {value}")
    lines += ["", "Retrain: see nlp_models/training/ (seeded; prints these figures).", ""]
    return "\n".join(lines)
