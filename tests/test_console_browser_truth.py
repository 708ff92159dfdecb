"""The console tells volunteers the truth, in browsers: who was alerted, what monitoring may do, why it is urgent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.async_api import expect

from tests.conftest import PASSWORD, Console, Harness

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)

TEXTER = "+447700900771"


async def holding(harness: Harness, username: str, text: str) -> tuple[Console, str]:
    """A volunteer (signed in to the API) holding a new SMS conversation; returns their client and its id."""
    api = await harness.console(username)
    await harness.text(TEXTER, text)
    taken = await api.post("/api/queue/take")
    assert taken.status == 200, await taken.text()
    return api, (await taken.json())["id"]


async def test_a_flag_that_reaches_nobody_says_so_with_what_to_do(harness: Harness, ui: ConsoleUI) -> None:
    """With no supervisor online and no on-call channel, raising a flag says nobody was alerted and what to do."""
    _, conversation = await holding(harness, "amira", "he is outside with a knife")
    amira = await ui.sign_in("amira")
    await amira.goto(ui.base_url + f"/console/conversations/{conversation}")
    await ui.wait_live(amira)
    await amira.get_by_role("button", name="Raise a safeguarding flag").click()
    await expect(amira.locator("#flag-level-immediate-hint")).to_contain_text("No on-call supervisor is set up")
    await amira.get_by_label("Category").select_option("immediate_danger")
    await amira.get_by_label("Immediate danger").check()
    await amira.get_by_role("button", name="Raise flag").click()
    await expect(amira.locator("#flag-status")).to_contain_text("No supervisor is online.")
    await expect(amira.locator("#flag-status")).not_to_contain_text("have been alerted")
    nobody = amira.get_by_role("alert").filter(has_text="Nobody could be alerted")
    await expect(nobody).to_contain_text(harness.settings.safeguarding.emergency_instruction)


async def test_the_admin_page_warns_while_no_oncall_channel_is_set(harness: Harness, ui: ConsoleUI) -> None:
    """The admin page says plainly that flags can reach nobody while safeguarding.oncall_channel is empty."""
    await harness.helpline.accounts.add_user("ada", "admin", PASSWORD)
    ada = await ui.page()
    await ada.goto(ui.base_url + "/login")
    await ada.get_by_label("Username").fill("ada")
    await ada.get_by_label("Password").fill(PASSWORD)
    await ada.get_by_role("button", name="Sign in").click()
    await ada.wait_for_url(ui.base_url + "/console/admin")  # an admin alone lands on the admin page
    await expect(ada.locator("#oncall-warning")).to_be_visible()
    await expect(ada.locator("#oncall-warning")).to_contain_text("safeguarding.oncall_channel")


async def test_monitoring_is_read_only_until_joining_and_the_holder_sees_who_closed(
    harness: Harness, ui: ConsoleUI
) -> None:
    """A monitoring supervisor has no close, transfer or block until joining; the holder is told who closed it."""
    await holding(harness, "amira", "hello")
    await harness.console("sam", role="supervisor")
    amira = await ui.sign_in("amira")
    await amira.get_by_role("link", name="SMS conversation").click()
    await ui.wait_live(amira)
    conversation = amira.url.rsplit("/", 1)[1]

    sam = await ui.sign_in("sam", available=False)
    await sam.goto(ui.base_url + f"/console/conversations/{conversation}")
    await expect(sam.locator("#monitor-title")).to_contain_text("Monitoring — read-only")
    await expect(sam.locator("#transfer-section")).to_be_hidden()
    await expect(sam.get_by_role("button", name="Block sender")).to_be_hidden()
    await expect(sam.get_by_role("button", name="Close conversation")).to_be_disabled()

    await sam.get_by_role("button", name="Join the conversation").click()
    await expect(sam.get_by_role("button", name="Close conversation")).to_be_enabled()
    await sam.get_by_label("Outcome").select_option("advice")
    await sam.get_by_label("Who is contacting").select_option("other")
    await sam.get_by_label("No, or not asked").check()
    await sam.get_by_role("button", name="Close conversation").click()
    await expect(sam.locator("#conv-status")).to_have_text("Closed")
    await expect(amira.locator("#conv-notice")).to_have_text("sam closed this conversation.")


async def test_the_holder_sees_who_acknowledged_and_decided(harness: Harness, ui: ConsoleUI) -> None:
    """The volunteer holding a flagged conversation sees who acknowledged the flag and the decision."""
    api, conversation = await holding(harness, "amira", "my dad hits me")
    sam = await harness.console("sam", role="supervisor")
    flag = {"category": "abuse", "level": "significant_harm", "note": ""}
    escalation = (await (await api.post(f"/api/conversations/{conversation}/flag", flag)).json())["escalation_id"]
    assert (await sam.post(f"/api/escalations/{escalation}/acknowledge")).status == 200
    decision = {"decision": "advice_given", "note": ""}
    assert (await sam.post(f"/api/escalations/{escalation}/decide", decision)).status == 200

    amira = await ui.sign_in("amira")
    await amira.goto(ui.base_url + f"/console/conversations/{conversation}")
    flags = amira.locator("#flag-list")
    await expect(flags).to_contain_text("acknowledged by sam")
    await expect(flags).to_contain_text("decision: Advice given by sam")


async def test_the_queue_row_says_why_it_is_urgent(harness: Harness, ui: ConsoleUI) -> None:
    """A risky waiting conversation's row gives its top risk category and reason, never the contact's words."""
    await harness.console("amira")
    await harness.text(TEXTER, "i want to kill myself")
    amira = await ui.sign_in("amira")
    row = amira.locator("#waiting-rows tr").first
    await expect(row.locator(".risk-why")).to_contain_text("Suicide: ")
    await expect(row).not_to_contain_text("kill myself")


async def test_closing_a_high_risk_conversation_without_a_flag_asks_why(harness: Harness, ui: ConsoleUI) -> None:
    """The closing form of a high-risk, unflagged conversation asks for a reason, and refuses to close without one."""
    _, conversation = await holding(harness, "amira", "i want to kill myself")
    amira = await ui.sign_in("amira")
    await amira.goto(ui.base_url + f"/console/conversations/{conversation}")
    await amira.get_by_label("Outcome").select_option("support")
    await amira.get_by_label("Who is contacting").select_option("other")
    await amira.get_by_label("No, or not asked").check()
    reason = amira.get_by_label("Why no safeguarding flag")
    await expect(reason).to_be_visible()
    await amira.get_by_role("button", name="Close conversation").click()
    await expect(amira.locator("#close-error")).to_contain_text("raise one, or say why not")
    await expect(reason).to_be_focused()
    await reason.fill("Song lyrics; confirmed safe with her mum at home.")
    await amira.get_by_role("button", name="Close conversation").click()
    await expect(amira.locator("#conv-status")).to_have_text("Closed")
    await expect(amira.locator("#notes-list")).to_contain_text("Closed without a safeguarding flag: Song lyrics")


async def test_closed_escalations_are_listed_for_handover(harness: Harness, ui: ConsoleUI) -> None:
    """The escalations page lists what was closed in the last day, with who acknowledged and what was decided."""
    api, conversation = await holding(harness, "amira", "my dad hits me")
    sam_api = await harness.console("sam", role="supervisor")
    flag = {"category": "abuse", "level": "significant_harm", "note": ""}
    escalation = (await (await api.post(f"/api/conversations/{conversation}/flag", flag)).json())["escalation_id"]
    await sam_api.post(f"/api/escalations/{escalation}/acknowledge")
    await sam_api.post(f"/api/escalations/{escalation}/decide", {"decision": "referred", "note": ""})
    await sam_api.post(f"/api/escalations/{escalation}/close")
    sam = await ui.sign_in("sam", available=False)
    await sam.goto(ui.base_url + "/console/escalations")
    row = sam.locator(f'#history-rows tr[data-id="{escalation}"]')
    await expect(row).to_contain_text("Significant harm")
    await expect(row).to_contain_text("Referred — sam")
    await sam.get_by_label("Closed in").select_option("7")
    await expect(row).to_be_visible()
