"""`kikimimi export corrections`: people's corrections of the analyses, as the CSV that training reads.

Columns: `post_id,platform,language,text,addresses_brand,needs_reply,intent,sentiment,corrected_by,corrected_at`;
a field nobody corrected is an empty cell, and the latest correction of a field wins. A post whose text belongs
to an evaluation set (`nlp_models/evaluation_sets`: the labelled sets, and the support tweets reserved for
evaluation) is never written, so retraining on the export cannot leak into what the models are measured on.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kikimimi.db import open_session
from kikimimi.settings import load_settings
from nlp_models.evaluation_sets import build
from responder.inbox import CorrectedPost, corrected_posts

COLUMNS = [
    "post_id",
    "platform",
    "language",
    "text",
    "addresses_brand",
    "needs_reply",
    "intent",
    "sentiment",
    "corrected_by",
    "corrected_at",
]
export_app = typer.Typer(help="Write out what people recorded, for retraining.", no_args_is_help=True)
err_console = Console(stderr=True)


def evaluation_hashes() -> set[str]:
    """SHA-1s of every text an evaluation set holds or reserves (never exported for training)."""
    hashes: set[str] = set()
    for name in ("support_en_labels.csv", "casual_ja.csv"):
        with (build.HERE / name).open(encoding="utf-8") as fh:
            hashes.update(row["sha1"] for row in csv.DictReader(fh))
    if build.SUPPORT_TWEETS.exists():  # the pool the support set is drawn from: reserved as a whole
        with build.SUPPORT_TWEETS.open(encoding="utf-8") as fh:
            hashes.update(
                build.text_sha1(r["text"]) for r in csv.DictReader(fh) if build.is_evaluation_tweet(r["text"])
            )
    return hashes


def is_evaluation_text(text: str, hashes: set[str]) -> bool:
    return build.text_sha1(text) in hashes


def write_corrections(items: list[CorrectedPost], out, hashes: set[str]) -> tuple[int, int]:  # noqa: ANN001 - a file
    """Write the rows; returns (written, left out because they are evaluation texts)."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    written = skipped = 0
    for item in items:
        if is_evaluation_text(item.text, hashes):
            skipped += 1
            continue
        writer.writerow(
            [
                item.post_id,
                item.platform,
                item.language,
                item.text,
                int(item.addresses_brand),
                "" if item.needs_reply is None else int(item.needs_reply == "true"),
                item.intent or "",
                item.sentiment or "",
                item.corrected_by,
                item.corrected_at.isoformat(),
            ]
        )
        written += 1
    return written, skipped


@export_app.command("corrections")
def export_corrections(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="CSV file to write (default: standard output).")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")] = None,
) -> None:
    """Write every corrected analysis as CSV (latest correction per field; evaluation texts left out)."""
    settings = load_settings(config)
    with open_session(settings) as session:
        items = corrected_posts(session)
    hashes = evaluation_hashes()
    if out is None:
        written, skipped = write_corrections(items, sys.stdout, hashes)
    else:
        with out.open("w", encoding="utf-8", newline="") as fh:
            written, skipped = write_corrections(items, fh, hashes)
    err_console.print(
        f"{written} corrected posts written"
        + (f" to {out}" if out else "")
        + (f"; {skipped} left out (their text is in an evaluation set)" if skipped else "")
    )
