"""Fuzzing the other endpoints: /webhooks/generic, the senders (PagerDuty, Opsgenie, a config
source), the incident API's list and refs, and signed Slack requests (tests/fuzzing.py)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzzing import (
    AUTH,
    EXAMPLES,
    FUZZ,
    Case,
    Store,
    generic_cases,
    sender_cases,
    slack_bodies,
    storable_text,
)
from tests.payloads import am_notification
from tests.scenario import SIGNING_SECRET, Bot
from tests.servers import slack_headers

# Hypothesis warns that 100 kB examples make long reprs; that is the point of them.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")


def test_fuzzed_generic_webhooks(fuzzed: tuple[Bot, Store]) -> None:
    bot, store = fuzzed
    sent: list[Case] = []

    @settings(FUZZ, max_examples=EXAMPLES["generic"])
    @given(case=generic_cases())
    def check(case: Case) -> None:
        sent.append(case)
        before = store.counts()
        headers = {**AUTH, "Content-Type": case.content_type}
        response = bot.http.post("/webhooks/generic", content=case.body, headers=headers)
        assert response.status_code < 500, (case.why, response.text[:300])
        if case.valid:
            assert response.status_code == 200 and response.json()["opened"], case.why
            assert store.counts() == (before[0] + 1, before[1] + 1)
        else:
            assert 400 <= response.status_code < 500, (case.why, response.text[:300])
            assert isinstance(response.json()["error"], str)
            assert store.counts() == before, f"{case.why} stored something"

    check()
    valid = sum(c.valid for c in sent)
    print(f"generic: {len(sent)} requests, {valid} valid")  # shown with -s
    assert len(sent) >= EXAMPLES["generic"]
    assert valid > 20 and len(sent) - valid > 100


def test_fuzzed_senders(fuzzed: tuple[Bot, Store]) -> None:
    bot, store = fuzzed
    answers: list[int] = []

    @settings(FUZZ, max_examples=EXAMPLES["senders"])
    @given(sent=sender_cases())
    def check(sent: tuple[str, Case]) -> None:
        source, case = sent
        before = store.counts()
        response = bot.http.post(f"/webhooks/{source}", content=case.body, headers=AUTH)
        answers.append(response.status_code)
        assert response.status_code < 500, (case.why, response.text[:300])
        if response.status_code >= 400:
            assert isinstance(response.json()["error"], str), case.why
            assert store.counts() == before, f"{case.why} stored something"

    check()
    print(f"senders: {len(answers)} requests, {answers.count(200)} taken")  # shown with -s
    assert len(answers) >= EXAMPLES["senders"]
    assert answers.count(200) > 30 and len(answers) - answers.count(200) > 30


def test_fuzzed_incident_list_queries(fuzzed: tuple[Bot, Store]) -> None:
    bot, store = fuzzed
    asked: list[dict[str, str]] = []
    numbers = st.integers(-(10**30), 10**30).map(str)

    @settings(FUZZ, max_examples=EXAMPLES["list"])
    @given(
        params=st.fixed_dictionaries(
            {},
            optional={
                "status": st.sampled_from(["open", "all"]) | storable_text,
                "limit": numbers | storable_text,
                "offset": storable_text,
            },
        )
    )
    def check(params: dict[str, str]) -> None:
        asked.append(params)
        before = store.counts()
        response = bot.http.get("/api/incidents", params=params)
        assert response.status_code in (200, 422), (params, response.text[:300])
        well_formed = params.get("status", "open") in ("open", "all") and (
            params.get("limit", "1").isascii()
            and params.get("limit", "1").isdigit()
            and 1 <= int(params.get("limit", "1")) <= 1000
        )
        if well_formed:
            assert response.status_code == 200 and isinstance(response.json(), list)
        if response.status_code == 422:
            assert response.json()["error"] == "invalid_request"
        assert store.counts() == before

    check()
    print(f"list: {len(asked)} requests")  # shown with -s
    assert len(asked) >= EXAMPLES["list"]


def test_fuzzed_incident_refs(fuzzed: tuple[Bot, Store]) -> None:
    bot, store = fuzzed
    # Real incidents to meet, whichever tests of this module ran before on this worker.
    assert bot.webhook("alertmanager", am_notification()).status_code == 200
    asked: list[str] = []
    refs = st.one_of(
        storable_text,
        st.integers(-(10**20), 10**20).map(lambda n: f"INC-{n}"),
        st.text("0123456789\u00b2\u00b3\u0661\u0662INC-/ .%", max_size=14),
    ).filter(lambda ref: ref.strip() not in ("", ".", ".."))

    @settings(FUZZ, max_examples=EXAMPLES["ref"])
    @given(ref=refs, postmortem=st.booleans())
    def check(ref: str, postmortem: bool) -> None:
        asked.append(ref)
        path = f"/api/incidents/{quote(ref, safe='')}" + ("/postmortem" if postmortem else "")
        response = bot.http.get(path)
        assert response.status_code in (200, 404), (ref, response.text[:300])
        if response.status_code == 404:
            assert response.json()["error"] == "not_found"

    check()
    print(f"ref: {len(asked)} requests")  # shown with -s
    assert len(asked) >= EXAMPLES["ref"]
    assert store.counts()[0] > 0  # the refs did meet real incidents too


def test_fuzzed_signed_slack_garbage(fuzzed: tuple[Bot, Store]) -> None:
    bot, store = fuzzed
    sent: list[bytes] = []

    @settings(FUZZ, max_examples=EXAMPLES["slack"])
    @given(request=slack_bodies())
    def check(request: tuple[bytes, str]) -> None:
        body, content_type = request
        sent.append(body)
        before = store.counts()
        headers = slack_headers(SIGNING_SECRET, body, content_type=content_type)
        response = bot.http.post("/slack/events", content=body, headers=headers)
        assert response.status_code < 500, (body[:200], response.text[:300])
        if response.status_code >= 400:
            assert isinstance(response.json()["error"], str), response.text[:300]
        assert store.counts() == before

    check()
    print(f"slack: {len(sent)} requests")  # shown with -s
    assert len(sent) >= EXAMPLES["slack"]
