"""Kill -9 while posting, racing workers, lagging lookups, lost answers: still one reply per approval.

Worker processes run the real `post_approved` against `FilePlatform`, whose replies live in a file and so
survive SIGKILL. Seeded and scaled down (fractions of a second of lag and lease); `python -m responder.trials`
runs the same trials 100 at a time.
"""

import pytest

from responder.trials import run_scenario

pytestmark = pytest.mark.integration

TRIALS = 4


@pytest.mark.parametrize("scenario", ["lagging", "second-worker", "three-workers", "lost-answer"])
def test_every_approval_becomes_exactly_one_reply(scenario, tmp_path):
    tally = run_scenario(scenario, TRIALS, seed=7, workdir=tmp_path)
    assert tally.failures == []
    assert (tally.doubles, tally.lost_approvals, tally.worker_crashes) == (0, 0, 0)
    assert tally.approvals == TRIALS * 3
    if scenario == "lagging":  # the trials really did kill workers holding a lease mid-post
        assert tally.kills == TRIALS and tally.kills_mid_post >= 2 and tally.unknown_outcomes >= 1
    if scenario == "lost-answer":  # and answers really were lost, found by a lookup or shown not posted
        assert tally.unknown_outcomes >= 3 and tally.reconciled_posted >= 1 and tally.retried_after_lookup >= 1
