"""Which Hosts and Origins the local page answers, and its key."""

from __future__ import annotations

from bot.localslack.access import PageAccess

KEY = "k" * 24


def test_a_loopback_page_answers_its_loopback_names_on_its_port_only() -> None:
    access = PageAccess.loopback(port=8080, key=KEY)
    for host in ("127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080"):
        assert access.allows_host(host), host
    for host in (
        None,
        "",
        "127.0.0.1",  # no port: port 80
        "127.0.0.1:8081",
        "evil.example:8080",  # DNS rebinding: the attacker's name, resolved to 127.0.0.1
        "127.0.0.1.evil.example:8080",
        "0.0.0.0:8080",
    ):
        assert not access.allows_host(host), host
    assert access.cookie == "firebreak_8080"  # cookies ignore ports: two bots, two cookies


def test_the_bound_address_and_port_80() -> None:
    assert PageAccess.loopback(port=9000, key=KEY, names=["127.0.0.7"]).allows_host(
        "127.0.0.7:9000"
    )
    assert PageAccess.loopback(port=9000, key=KEY, names=["::1"]).allows_host("[::1]:9000")
    on_80 = PageAccess.loopback(port=80, key=KEY)
    assert on_80.allows_host("localhost") and on_80.allows_host("localhost:80")


def test_origins_are_the_pages_own() -> None:
    access = PageAccess.loopback(port=8080, key=KEY)
    assert access.allows_origin(None)  # curl and scripts send none
    assert access.allows_origin("http://127.0.0.1:8080")
    for origin in ("http://evil.example:8080", "null", "http://127.0.0.1:9999", "file://"):
        assert not access.allows_origin(origin), origin


def test_the_key_and_its_link() -> None:
    access = PageAccess.loopback(port=8080, key=KEY)
    assert access.is_key(KEY) and not access.is_key(None) and not access.is_key(KEY[:-1])
    assert access.link("http://127.0.0.1:8080/") == f"http://127.0.0.1:8080/?key={KEY}"
    assert KEY not in repr(access)
