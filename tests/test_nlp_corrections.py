"""A person's corrections (`kikimimi export corrections`) become labelled training rows."""

from __future__ import annotations

import csv

import pytest

from nlp_models.training import train_all, train_requests
from nlp_models.training.request_data import correction_rows

HEADER = [
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


def _write(path, rows):
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture
def corrections(tmp_path):
    return _write(
        tmp_path / "corrections.csv",
        [
            [
                "1",
                "x",
                "en",
                "@shop where is my parcel, ordered a week ago",
                "1",
                "1",
                "order_status",
                "negative",
                "ana",
                "2026-11-20T10:00:00Z",
            ],
            ["2", "bluesky", "ja", "煎茶うますぎて草", "0", "", "praise", "positive", "ken", "2026-11-21T09:00:00Z"],
            ["3", "x", "en", "@shop thanks, sorted", "1", "0", "", "", "ana", "2026-11-21T11:00:00Z"],
            ["4", "x", "en", "nothing was corrected here", "0", "", "", "", "ana", "2026-11-21T12:00:00Z"],
        ],
    )


def test_corrected_fields_become_labels_and_empty_cells_stay_unlabelled(corrections):
    rows = correction_rows(corrections)
    assert [r.text for r in rows] == [
        "@shop where is my parcel, ordered a week ago",
        "煎茶うますぎて草",
        "@shop thanks, sorted",
    ]  # the row with no correction at all teaches nothing and is left out
    parcel, tea, thanks = rows
    assert (parcel.is_question, parcel.intent, parcel.sentiment, parcel.addresses_brand) == (
        1,
        "order_status",
        "negative",
        1,
    )
    assert (tea.is_question, tea.intent, tea.lang, tea.addresses_brand) == (None, "praise", "ja", 0)
    assert (thanks.is_question, thanks.intent, thanks.sentiment) == (0, None, None)
    assert all(r.split == "train" and r.source == "corrections" and r.commercial for r in rows)


def test_a_bad_cell_names_its_line_and_a_missing_column_is_refused(tmp_path):
    bad = _write(tmp_path / "bad.csv", [["1", "x", "en", "hi", "0", "1", "shipping", "", "ana", ""]])
    with pytest.raises(ValueError, match=r"bad.csv:2: .*'shipping'"):
        correction_rows(bad)
    short = tmp_path / "short.csv"
    short.write_text("post_id,text\n1,hello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        correction_rows(short)


def test_train_all_hands_the_corrections_file_to_the_request_models(corrections, monkeypatch):
    seen = []
    monkeypatch.setattr(train_requests, "main", lambda argv=None: seen.append(argv))
    train_all.main(["--requests-only", "--corrections", str(corrections)])
    assert seen == [["--corrections", str(corrections)]]
    # and the path it passes is one the training rows read
    assert len(correction_rows(train_requests.Path(seen[0][1]))) == 3
