"""Retrain every shipped model (about 25 minutes on 2 cores) and print each evaluation.

python -m nlp_models.training.train_all
python -m nlp_models.training.train_all --corrections corrections.csv   # + `kikimimi export corrections`
python -m nlp_models.training.train_all --requests-only                  # keep the encoder, refit the rest

The order matters: the intent head reads the sentiment encoder's encodings, so the encoder comes first.
"""

from __future__ import annotations

import argparse
import sys

from nlp_models.training import train_encoder, train_requests


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corrections", metavar="FILE", help="a CSV from `kikimimi export corrections`: extra labelled rows"
    )
    parser.add_argument("--requests-only", action="store_true", help="keep the sentiment encoder and its heads")
    args = parser.parse_args(argv)
    if not args.requests_only:
        sys.argv = sys.argv[:1]  # train_encoder parses its own defaults
        train_encoder.main()
    train_requests.main(["--corrections", args.corrections] if args.corrections else [])


if __name__ == "__main__":
    main()
