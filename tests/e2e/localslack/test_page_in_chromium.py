"""The local workspace in headless Chromium, as a newcomer uses it: fire a test alert from the
menu, claim command, roll the bad model back through the approval button, resolve, and open
the postmortem. Screenshots go to a temporary folder, or to $FIREBREAK_SCREENSHOTS
(`make screenshots` keeps them in docs/screenshots for the README)."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from bot.budget.slo import Slo
from bot.config import FirebreakConfig, ServiceConfig
from bot.deploy.config import HttpTargetConfig
from bot.slack.blocks import actions
from examples.model_service.app import build_app as build_model_service
from tests.browser import WINDOW, NoBrowser, chromium, screenshot_folder, until
from tests.scenario import Bot, clean_env, running_bot
from tests.servers import ServerThread, free_port

pytestmark = pytest.mark.browser

ANA, BEN = "U0ANA0001", "U0BEN0002"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    try:
        with chromium() as driver:
            yield driver
    except NoBrowser as exc:
        pytest.skip(str(exc))


@pytest.fixture
def model_service() -> Iterator[str]:
    app = build_model_service(services={"search-ranker": ["v41", "v42"]})
    with ServerThread(app, free_port()) as server:
        yield server.url


def button(driver: WebDriver, action_id: str) -> WebElement | None:
    """The newest enabled button with this action_id (the page draws old ones too)."""
    found = driver.find_elements(By.CSS_SELECTOR, f'button[data-action-id="{action_id}"]')
    live = [b for b in found if b.is_enabled()]
    return live[-1] if live else None


def click(driver: WebDriver, action_id: str) -> None:
    """Click the newest such button, finding it again if a live reload replaced it."""

    def clicked(d: WebDriver) -> bool:
        found = button(d, action_id)
        if found is None:
            return False
        found.click()
        return True

    until(driver, clicked, what=f"a {action_id} button to click")


def text_of(driver: WebDriver) -> str:
    return driver.find_element(By.TAG_NAME, "main").text


def shows(driver: WebDriver, *texts: str) -> bool:
    page = text_of(driver)
    return all(t in page for t in texts)


def act(driver: WebDriver, action: Callable[[WebDriver], object]) -> None:
    """Do `action`, again if a live reload swapped the page under it (stale elements)."""
    until(driver, lambda d: action(d) or True, what="the action to go through")


def type_in_composer(driver: WebDriver, text: str) -> None:
    # Enter sends, as in Slack.
    act(driver, lambda d: d.find_element(By.ID, "composer").send_keys(text, Keys.ENTER))


def from_menu(driver: WebDriver, status: str) -> None:
    """Fire test alert → search-ranker → Fire (status "firing") or Resolve ("resolved")."""

    def choose(d: WebDriver) -> None:
        menu = d.find_element(By.CSS_SELECTOR, "details.drill")
        if menu.get_attribute("open") is None:
            menu.find_element(By.TAG_NAME, "summary").click()
        menu.find_element(
            By.XPATH,
            f".//form[input[@name='service' and @value='search-ranker']]"
            f"//button[@value='{status}']",
        ).click()

    act(driver, choose)


def broadcast_card(bot: Bot) -> dict[str, Any]:
    """The broadcast channel's copy of INC-1's card: its fields by name, and its buttons."""
    channel = bot.workspace.channel_by_name("incidents")
    assert channel is not None
    cards = [m for m in bot.workspace.messages(channel["id"]) if m.get("blocks")]
    if not cards:
        return {"buttons": []}
    fields = {}
    for block in cards[0]["blocks"]:
        for field in block.get("fields", []):
            name, _, value = field["text"].partition("\n")
            fields[name.strip("*").lower()] = value
    buttons = [
        e["action_id"]
        for b in cards[0]["blocks"]
        if b["type"] == "actions"
        for e in b.get("elements", [])
    ]
    return {**fields, "buttons": buttons}


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_fire_claim_roll_back_resolve_and_read_the_postmortem(
    tmp_path: Path,
    config: FirebreakConfig,
    model_service: str,
    browser: WebDriver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clean_env(monkeypatch)
    config.services["search-ranker"] = ServiceConfig(
        description="Learning-to-rank model behind product search",
        owners=[ANA, BEN],
        slo=Slo(target=99.95, window="7d"),
        deploy=HttpTargetConfig(kind="http", url=model_service),
    )
    shots = screenshot_folder(tmp_path / "screenshots")
    driver = browser
    with running_bot(tmp_path, config) as bot:
        # People with full names and no display name chosen: Slack shows them by full name.
        for person, handle, full in (
            (ANA, "u0ana0001", "Ana Ortiz"),
            (BEN, "u0ben0002", "Ben Okafor"),
        ):
            bot.workspace.add_user(person, handle, real_name=full)
        # A bad model goes out; nobody has noticed yet.
        deployed = httpx.post(
            f"{model_service}/v1/services/search-ranker/deploy", json={"version": "v43-bad"}
        )
        assert deployed.status_code == 200

        driver.get(bot.page_url)  # the link `firebreak serve` prints: it sets the key's cookie
        Select(driver.find_element(By.ID, "as-user")).select_by_value(ANA)
        until(
            driver,
            lambda d: d.find_element(By.ID, "as-user").get_attribute("value") == ANA,
            what="ana chosen",
        )

        from_menu(driver, "firing")
        incident = bot.announced("INC-1")
        until(driver, lambda d: button(d, actions.CLAIM_COMMANDER), what="the claim button")
        assert shows(driver, "INC-1", "search-ranker: model quality dropped (test alert)")
        banner = driver.find_element(By.CSS_SELECTOR, ".banner.ok").text
        assert banner == "✓ Sent ModelQualityDrop firing on search-ranker: INC-1 opened."
        # The broadcast channel got the announcement too: unread for ana, who is elsewhere. It
        # may be posted after the channel's own card, and the page shows it at its next reload.
        unread = until(
            driver,
            lambda d: d.find_element(By.CSS_SELECTOR, "nav a.unread .count").text,
            what="the broadcast channel's unread count",
        )
        assert int(unread) >= 1
        driver.save_screenshot(str(shots / "incident-opened.png"))
        act(driver, lambda d: d.find_element(By.XPATH, "//button[text()='Dismiss']").click())

        click(driver, actions.CLAIM_COMMANDER)
        until(driver, lambda _: bot.incident("INC-1")["commander"] == ANA, what="ana in command")
        # The broadcast copy of the card follows: ana commands, nobody is offered command.
        until(
            driver,
            lambda _: (
                broadcast_card(bot).get("commander") == f"<@{ANA}>"
                and actions.CLAIM_COMMANDER not in broadcast_card(bot)["buttons"]
            ),
            what="the broadcast card showing ana in command",
        )
        # A scribe by typed name, as a person types it in Slack.
        type_in_composer(driver, "/incident scribe @u0ben0002")
        until(driver, lambda _: bot.incident("INC-1")["scribe"] == BEN, what="ben scribing")
        until(
            driver,
            lambda _: broadcast_card(bot).get("scribe") == f"<@{BEN}>",
            what="the broadcast card showing ben scribing",
        )

        type_in_composer(driver, "/incident rollback")
        until(driver, lambda d: button(d, actions.RUN_APPROVE), what="the approve button")
        # The card shows the plan, read from the model service (again at each refresh).
        assert shows(driver, "Awaiting approval", "search-ranker: v43-bad → v42 (rollback)")
        driver.save_screenshot(str(shots / "rollback-approval.png"))
        click(driver, actions.RUN_APPROVE)
        until(driver, lambda d: shows(d, "rolled back from v43-bad to v42"), what="the rollback")
        assert (
            httpx.get(f"{model_service}/v1/services/search-ranker").json()["active_version"]
            == "v42"
        )

        # The quality signal is back: the alert resolves (from the menu), the run ends.
        from_menu(driver, "resolved")
        driver.get(f"{bot.http.base_url}/?channel={incident['channel_id']}")
        until(
            driver,
            lambda d: shows(d, "rollback succeeded in INC-1"),
            what="the run's success",
            timeout=30,
        )
        driver.save_screenshot(str(shots / "rollback-done.png"))

        # Command is handed over by typed name, and ben accepts it from his own view.
        type_in_composer(driver, "/incident handoff @u0ben0002")
        until(driver, lambda d: button(d, actions.HANDOFF_ACCEPT), what="the handoff offer")
        Select(driver.find_element(By.ID, "as-user")).select_by_value(BEN)
        until(
            driver,
            lambda d: d.find_element(By.ID, "as-user").get_attribute("value") == BEN,
            what="ben chosen",
        )
        click(driver, actions.HANDOFF_ACCEPT)
        until(driver, lambda _: bot.incident("INC-1")["commander"] == BEN, what="ben in command")
        until(
            driver,
            lambda _: broadcast_card(bot).get("commander") == f"<@{BEN}>",
            what="the broadcast card showing ben in command",
        )
        until(
            driver,
            lambda d: shows(d, "@Ben Okafor now commands INC-1, taking over from @Ana Ortiz"),
            what="the handoff said in the channel, by name",
        )

        type_in_composer(driver, "/incident resolve")
        click(driver, actions.RESOLVE_CONFIRM)
        until(
            driver,
            lambda _: (
                broadcast_card(bot).get("status") == "resolved"
                and not broadcast_card(bot)["buttons"]
            ),
            what="the broadcast card resolved, without buttons",
        )
        until(
            driver,
            lambda d: d.find_element(By.PARTIAL_LINK_TEXT, "INC-1-search-ranker"),
            what="the postmortem's link",
        )
        assert bot.incident("INC-1")["status"] == "resolved"
        act(
            driver,
            lambda d: d.execute_script(
                "arguments[0].scrollIntoView({block: 'center'})",
                d.find_element(By.PARTIAL_LINK_TEXT, "INC-1-search-ranker"),
            ),
        )
        driver.save_screenshot(str(shots / "postmortem-shared.png"))

        act(driver, lambda d: d.find_element(By.PARTIAL_LINK_TEXT, "INC-1-search-ranker").click())
        document = until(
            driver, lambda d: d.find_element(By.TAG_NAME, "pre"), what="the postmortem"
        ).text
        assert document.startswith("# INC-1 postmortem: search-ranker: model quality dropped")
        assert "rollback step 2/4 `roll back`" in document
        assert "this incident consumed" in document
        # One account of the moments: ana acknowledged by acting, the rollback mitigated.
        assert "no commander has taken the incident" not in document
        assert "ran `/incident" not in document  # commands typed are not the timeline
        # People by the name Slack shows for them, not by ID.
        assert "- **Incident commander:** Ben Okafor\n" in document
        assert "- **Scribe:** Ben Okafor\n" in document and "Ana Ortiz" in document
        assert ANA not in document and BEN not in document
        detail = bot.incident("INC-1")
        assert detail["acknowledged_at"] and detail["mitigated_at"]
        assert detail["acknowledged_at"] <= detail["mitigated_at"] <= detail["resolved_at"]
        driver.save_screenshot(str(shots / "postmortem.png"))

    for name in (
        "incident-opened",
        "rollback-approval",
        "rollback-done",
        "postmortem-shared",
        "postmortem",
    ):
        width, height = png_size(shots / f"{name}.png")
        assert width == WINDOW[0] and height > WINDOW[1] / 2
