"""Break-glass disclosure: a reason, a second supervisor, shown once, audited first; gone once the vault is."""

from __future__ import annotations

from tests.conftest import Console, Harness

TEXTER = "+447700900123"
REASON = "Contact says she has taken pills and is alone; ambulance needs her number"


async def setup(harness: Harness, level: str = "immediate_danger") -> tuple[Console, Console, str]:
    await harness.text(TEXTER, "i took all my pills")
    amira = await harness.console("amira")
    conversation = (await (await amira.post("/api/queue/take")).json())["id"]
    flag = {"category": "suicide", "level": level, "note": ""}
    assert (await amira.post(f"/api/conversations/{conversation}/flag", flag)).status == 201
    return amira, await harness.console("sam", role="supervisor"), conversation


async def test_dual_control_then_shown_once(harness: Harness) -> None:
    """One supervisor alone cannot disclose; after a second approves, the requester sees the address once."""
    _, sam, conversation = await setup(harness)
    requested = await sam.post(f"/api/conversations/{conversation}/disclosures", {"reason": REASON})
    assert requested.status == 201
    disclosure = (await requested.json())["id"]
    assert (await sam.post(f"/api/disclosures/{disclosure}/reveal")).status == 409
    assert (await sam.post(f"/api/disclosures/{disclosure}/approve")).status == 403  # not your own request
    tess = await harness.console("tess", role="supervisor")
    assert (await tess.post(f"/api/disclosures/{disclosure}/approve")).status == 200
    assert (await tess.post(f"/api/disclosures/{disclosure}/reveal")).status == 403  # only the requester sees it
    shown = await sam.post(f"/api/disclosures/{disclosure}/reveal")
    assert shown.status == 200
    assert (await shown.json()) == {"address": TEXTER, "channel": "sms"}
    again = await sam.post(f"/api/disclosures/{disclosure}/reveal")
    assert again.status == 409
    actions = [r[0] for r in harness.rows("SELECT action FROM audit WHERE action LIKE 'disclosure.%' ORDER BY seq")]
    assert actions == [
        "disclosure.requested",
        "disclosure.decision_denied",  # the requester's own attempt to approve
        "disclosure.approved",
        "disclosure.shown",
    ]
    [(detail,)] = harness.rows("SELECT detail FROM audit WHERE action = 'disclosure.requested'")
    assert REASON in detail and TEXTER not in str(harness.rows("SELECT * FROM audit"))


async def test_refused_request_never_shows(harness: Harness) -> None:
    """A refused request cannot be revealed."""
    _, sam, conversation = await setup(harness)
    disclosure = (await (await sam.post(f"/api/conversations/{conversation}/disclosures", {"reason": REASON})).json())[
        "id"
    ]
    tess = await harness.console("tess", role="supervisor")
    assert (await tess.post(f"/api/disclosures/{disclosure}/refuse")).status == 200
    assert (await sam.post(f"/api/disclosures/{disclosure}/reveal")).status == 409


async def test_needs_a_reason_and_a_serious_escalation(harness: Harness) -> None:
    """No reason, or only a 'concern' escalation, is refused and records nothing."""
    _, sam, conversation = await setup(harness, level="concern")
    path = f"/api/conversations/{conversation}/disclosures"
    assert (await sam.post(path, {"reason": ""})).status == 400
    assert (await sam.post(path, {})).status == 400
    refused = await sam.post(path, {"reason": REASON})
    assert refused.status == 409 and "significant harm" in (await refused.json())["error"]
    assert harness.rows("SELECT COUNT(*) FROM disclosures") == [(0,)]


async def test_after_close_the_address_no_longer_exists(harness: Harness) -> None:
    """Once the conversation has closed and its vault entry is gone, the console says there is nothing to disclose."""
    amira, sam, conversation = await setup(harness)
    await harness.send_outbox()
    await amira.post(f"/api/conversations/{conversation}/close", {"outcome": "referred"})
    response = await sam.post(f"/api/conversations/{conversation}/disclosures", {"reason": REASON})
    assert response.status == 409
    assert "no longer exists" in (await response.json())["error"]
