"""`kikimimi eval ...` and `kikimimi bench nlp`: metrics out, one-line errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kikimimi.commands.bench import bench_app
from kikimimi.commands.nlp import eval_app
from nlp_models.evaluation import DatasetError, evaluate_intents, load_labelled

runner = CliRunner()
DATA = Path(__file__).parent / "data"


def write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,sentiment\nhello,positive\n", "missing column(s) label"),
        ("text,label\nhello,happy\n", "line 2: unknown label 'happy'"),
        ("text,label\n", "no rows under the header"),
        ("", "the file is empty"),
    ],
)
def test_bad_sentiment_files_fail_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path, content)
    result = runner.invoke(eval_app, ["sentiment", str(path), "--json"])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_file_and_bad_labels_for_other_tasks(tmp_path: Path) -> None:
    result = runner.invoke(eval_app, ["questions", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "no such file" in result.output
    path = write(tmp_path, "text,is_question\nwhere is it,yes\n")
    result = runner.invoke(eval_app, ["questions", str(path)])
    assert result.exit_code == 2 and "unknown is_question 'yes'" in result.output
    path = write(tmp_path, "text,intent\nwhere is it,shipping\n")
    with pytest.raises(DatasetError, match="unknown intent 'shipping'"):
        evaluate_intents(path)


def test_unknown_backend_is_a_one_line_error(tmp_path: Path) -> None:
    path = write(tmp_path, "text,label\nlove it,positive\n")
    result = runner.invoke(eval_app, ["sentiment", str(path), "--backend", "nope"])
    assert result.exit_code == 2 and "unknown backend 'nope'" in result.output


def test_load_labelled_reads_bom_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text('\ufefftext,label\n"hi, there",neutral\n', encoding="utf-8")
    assert load_labelled(path, "label", ("negative", "neutral", "positive")) == (["hi, there"], ["neutral"])


def test_eval_sentiment_json_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "text,label\nI love it so much 😍,positive\nworst service ever,negative\n最高でした！,positive\n",
    )
    result = runner.invoke(eval_app, ["sentiment", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"n", "macro_recall", "macro_f1", "accuracy", "posts_per_s", "backend"}
    assert out["n"] == 3 and out["backend"] == "default" and out["posts_per_s"] > 0


def test_eval_questions_and_intents_on_the_hand_labelled_sets() -> None:
    result = runner.invoke(eval_app, ["questions", str(DATA / "questions_ja.csv"), "--json"])
    out = json.loads(result.output)
    assert set(out) == {"n", "precision", "recall", "f1", "addresses_brand", "posts_per_s", "backend"}
    assert out["n"] == 111 and out["addresses_brand"]["source"].startswith("inferred")
    result = runner.invoke(eval_app, ["intents", str(DATA / "intents_en.csv"), "--json", "--backend", "baseline"])
    out = json.loads(result.output)
    assert set(out) == {"n", "macro_f1", "accuracy", "per_class", "addresses_brand", "posts_per_s", "backend"}
    assert out["backend"] == "baseline" and len(out["per_class"]) == 8


def test_eval_prints_a_table_for_people(tmp_path: Path) -> None:
    path = write(tmp_path, "text,intent\nwhere is my order,order_status\n")
    result = runner.invoke(eval_app, ["intents", str(path)])
    assert result.exit_code == 0 and "macro_f1" in result.output and "per_class.order_status" in result.output


def test_bench_reports_speed_and_components() -> None:
    result = runner.invoke(bench_app, ["nlp", "--n", "200", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["n"] == 200 and out["posts_per_s"] > 0
    assert {"language", "tokenizer", "sentiment", "question", "intent", "empathy"} <= set(out["component_seconds"])


def test_commands_are_mounted_on_the_kikimimi_cli() -> None:
    from kikimimi.cli import app

    result = runner.invoke(app, ["eval", "questions", str(DATA / "questions_en.csv"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["n"] == 111
    result = runner.invoke(app, ["bench", "--help"])
    assert result.exit_code == 0 and "nlp" in result.output


def test_the_independent_english_set_lies_in_the_evaluation_partition_only():
    # Training skips these tweets by hash; a label row outside the partition would mean it could be trained on.
    import csv

    from nlp_models.evaluation_sets import build
    from nlp_models.types import INTENTS, SENTIMENTS

    with (build.HERE / "support_en_labels.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 450 and all(row["sha1"][0] in "0123" for row in rows)
    assert build.is_evaluation_tweet("  hello  ") == (build.text_sha1("hello")[0] in "0123")
    assert {row["intent"] for row in rows} <= set(INTENTS) and {row["sentiment"] for row in rows} <= set(SENTIMENTS)
