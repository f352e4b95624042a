"""Retrain every shipped model (about 5 minutes on 2 cores) and print each evaluation.

python -m nlp_models.training.train_all
"""

from __future__ import annotations

from nlp_models.training import train_requests, train_sentiment


def main() -> None:
    train_sentiment.train_ja()
    train_sentiment.train_en()
    train_requests.main()


if __name__ == "__main__":
    main()
