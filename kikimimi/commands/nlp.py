"""`kikimimi eval sentiment|questions|intents FILE.csv` and `kikimimi bench nlp`: the models, measured."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kikimimi.errors import KikimimiError

eval_app = typer.Typer(help="Measure the NLP models on a labelled CSV of your own posts.", no_args_is_help=True)


FileArg = Annotated[Path, typer.Argument(help="UTF-8 CSV with a header", show_default=False)]
BackendOpt = Annotated[str, typer.Option("--backend", help="default, baseline or transformers")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="hub id or local path (transformers backend)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object for machines")]


def _show(result: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                table.add_row(f"{key}.{sub}", str(v))
        else:
            table.add_row(key, str(value))
    Console().print(table)


def _run(
    fn: Callable[..., dict[str, Any]], file: Path, backend: str, model: str | None, as_json: bool, title: str
) -> None:
    options = {"model": model} if model else {}
    try:
        result = fn(file, backend, **options)
    except KikimimiError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    _show(result, as_json, title)


@eval_app.command("sentiment")
def eval_sentiment(
    file: FileArg, backend: BackendOpt = "default", model: ModelOpt = None, as_json: JsonOpt = False
) -> None:
    """Columns text,label (negative|neutral|positive): macro_recall, macro_f1, accuracy."""
    from nlp_models.evaluation import evaluate_sentiment

    _run(evaluate_sentiment, file, backend, model, as_json, "sentiment")


@eval_app.command("questions")
def eval_questions(
    file: FileArg, backend: BackendOpt = "default", model: ModelOpt = None, as_json: JsonOpt = False
) -> None:
    """Columns text,is_question (0|1), optional addresses_brand (0|1; default: 1 when the text opens with an
    @handle): precision, recall, f1."""
    from nlp_models.evaluation import evaluate_questions

    _run(evaluate_questions, file, backend, model, as_json, "questions / help requests")


@eval_app.command("intents")
def eval_intents(
    file: FileArg, backend: BackendOpt = "default", model: ModelOpt = None, as_json: JsonOpt = False
) -> None:
    """Columns text,intent (the taxonomy), optional addresses_brand (as for questions): macro_f1, accuracy,
    per_class F1."""
    from nlp_models.evaluation import evaluate_intents

    _run(evaluate_intents, file, backend, model, as_json, "intents")


def bench_nlp(
    backend: BackendOpt = "default",
    model: ModelOpt = None,
    n: Annotated[int, typer.Option("--n", help="posts in the corpus")] = 2000,
    as_json: JsonOpt = False,
) -> None:
    """Full analysis of a fixed mixed English/Japanese corpus: posts_per_s and seconds per component."""
    from nlp_models.evaluation import benchmark

    options = {"model": model} if model else {}
    try:
        result = benchmark(backend, n, **options)
    except KikimimiError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    _show(result, as_json, "nlp benchmark")
