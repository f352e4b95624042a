"""How often the demo's drafts start from a template that contradicts the analysis or the feed's gold labels.

    KIKIMIMI_DATA_DIR=/tmp/demo kikimimi demo --no-dashboard
    KIKIMIMI_DATA_DIR=/tmp/demo python -m nlp_models.training.demo_templates

A product figure, not an evaluation: the demo feed (listener/sample_data/) informed earlier choices.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from sqlmodel import Session, col, select

from kikimimi.db import get_engine
from kikimimi.models import Analysis, Post, ReplyDraft
from kikimimi.settings import EXAMPLE_CONFIG, load_settings

META = Path(__file__).resolve().parents[2] / "listener" / "sample_data" / "sample_feed_meta.csv"


def template_intent(template: str) -> str:
    return template.rsplit("/", 1)[-1].removesuffix(".j2")


def wrong_templates(session: Session) -> dict:
    with META.open(encoding="utf-8", newline="") as f:
        gold = {(r["platform"], r["external_id"]): r for r in csv.DictReader(f)}
    counts: Counter[str] = Counter()
    rows = session.exec(
        select(ReplyDraft, Post, Analysis)
        .join(Post, col(Post.id) == col(ReplyDraft.post_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
    ).all()
    for draft, post, analysis in rows:
        lang = analysis.language if analysis.language == "ja" else "en"
        used = template_intent(draft.template)
        g = gold.get((post.platform, post.external_id), {})
        vs_analysis = (used == "complaint" and (analysis.is_question or analysis.sentiment == "positive")) or (
            used == "praise" and analysis.is_question
        )
        gold_intent = g.get("intent") or ""
        vs_gold = bool(gold_intent) and used != gold_intent
        apology_on_gold_praise_or_question = used == "complaint" and (
            gold_intent == "praise" or g.get("is_question") == "true" or g.get("sentiment") == "positive"
        )
        for key in ("all", lang):
            counts[f"{key}.drafts"] += 1
            counts[f"{key}.contradicts_analysis"] += vs_analysis
            counts[f"{key}.template_differs_from_gold_intent"] += vs_gold
            counts[f"{key}.apology_on_gold_praise_question_or_positive"] += apology_on_gold_praise_or_question
            counts[f"{key}.wrong (either)"] += vs_analysis or vs_gold
            counts[f"{key}.complaint_template"] += used == "complaint"
    return dict(sorted(counts.items()))


def main() -> None:
    settings = load_settings(EXAMPLE_CONFIG)
    with Session(get_engine(settings.database_url)) as session:
        print(json.dumps(wrong_templates(session), indent=1))


if __name__ == "__main__":
    main()
