"""Retrain every shipped model (about 25 minutes on 2 cores) and print each evaluation.

python -m nlp_models.training.train_all

The order matters: the intent head reads the sentiment encoder's encodings, so the encoder comes first.
"""

from __future__ import annotations

import sys

from nlp_models.training import train_encoder, train_requests


def main() -> None:
    sys.argv = sys.argv[:1]  # train_encoder parses its own defaults
    train_encoder.main()
    train_requests.main()


if __name__ == "__main__":
    main()
