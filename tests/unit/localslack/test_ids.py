from __future__ import annotations

import re

from bot.localslack.ids import TsClock, format_ts, new_block_id, new_id, new_view_hash, ts_key


def test_new_id_looks_like_a_slack_channel_id() -> None:
    assert re.fullmatch(r"C[A-Z0-9]{10}", new_id("C"))


def test_new_id_avoids_taken_ids() -> None:
    taken = {new_id("C") for _ in range(50)}
    assert all(new_id("C", taken) not in taken for _ in range(50))


def test_ts_is_seconds_dot_six_digit_micros() -> None:
    clock = TsClock(now=lambda: 1764201600.0001)
    assert clock.next() == "1764201600.000100"


def test_ts_strictly_increases_when_the_clock_stands_still_or_goes_back() -> None:
    times = iter([100.0, 100.0, 99.0, 100.5])
    clock = TsClock(now=lambda: next(times))
    assert [clock.next() for _ in range(4)] == [
        "100.000000",
        "100.000001",
        "100.000002",
        "100.500000",
    ]


def test_ts_key_orders_by_microseconds_not_float_rounding() -> None:
    assert ts_key("1764201600.000100") < ts_key("1764201600.000101")
    assert ts_key(format_ts(5_000_001)) == (5, 1)


def test_block_ids_and_view_hashes_look_like_slacks() -> None:
    assert re.fullmatch(r"[A-Za-z0-9]{5}", new_block_id())
    assert re.fullmatch(r"1569262015\.[0-9a-f]{8}", new_view_hash(1569262015.7))
    assert new_view_hash(1.0) != new_view_hash(1.0)
