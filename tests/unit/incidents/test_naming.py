from __future__ import annotations

import re
from itertools import islice

from bot.incidents.naming import MAX_NAME, channel_names, slugify

SLACK_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


def test_slug_obeys_slack_rules() -> None:
    assert slugify("Ranker NDCG@10 dropped — 40%!") == "ranker-ndcg-10-dropped-40"
    assert slugify("Café überfüllt") == "cafe-uberfullt"
    assert slugify("🔥🔥") == ""


def test_names_are_valid_and_distinct() -> None:
    long_title = "word " * 60
    names = list(islice(channel_names(12345, long_title), 8))
    assert names[0].startswith("inc-12345-word")
    assert len(set(names)) == 8
    for name in names:
        assert SLACK_NAME.match(name), name
        assert len(name) <= MAX_NAME


def test_title_without_letters_still_gets_a_name() -> None:
    assert next(channel_names(7, "!!!")) == "inc-7"
