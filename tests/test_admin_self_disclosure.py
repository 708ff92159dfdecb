"""One admin cannot reveal a contact's address alone: admin is not supervisor, and dual control needs another person."""

from __future__ import annotations

from tests.conftest import Console, Harness

TEXTER = "+447700900321"
REASON = "Contact says he is on a bridge and about to jump; police need his number now"


async def flagged(harness: Harness) -> str:
    await harness.text(TEXTER, "i'm on the bridge")
    amira = await harness.console("amira")
    conversation = str((await (await amira.post("/api/queue/take")).json())["id"])
    flag = {"category": "suicide", "level": "immediate_danger", "note": ""}
    assert (await amira.post(f"/api/conversations/{conversation}/flag", flag)).status == 201
    return conversation


async def test_an_admin_alone_reads_no_conversation_flag_record_or_address(harness: Harness) -> None:
    """Every way into a conversation is refused to an admin-only account, and nothing of the text reaches it."""
    conversation = await flagged(harness)
    ada = await harness.console("ada", role="admin")
    base = f"/api/conversations/{conversation}"
    for path in (
        "/api/queue",
        base,
        f"{base}/escalations",
        "/api/escalations",
        "/api/floor",
        "/api/disclosures",
        "/api/staff/available",
        "/api/blocks",
    ):
        response = await ada.get(path)
        assert response.status == 403, path
        assert "bridge" not in await response.text()
    for path, payload in (
        ("/api/queue/take", {}),
        (f"{base}/claim", {}),
        (f"{base}/flag", {"category": "suicide", "level": "concern", "note": ""}),
        (f"{base}/disclosures", {"reason": REASON}),
        (f"{base}/join", {}),
        (f"{base}/notes", {"body": "x"}),
    ):
        assert (await ada.post(path, payload)).status == 403, path
    socket = await ada.client.get("/console/ws", headers={"Origin": str(ada.client.make_url("")).rstrip("/")})
    assert socket.status == 403
    assert harness.rows("SELECT COUNT(*) FROM disclosures") == [(0,)]


async def test_an_admin_supervisor_cannot_approve_through_an_account_it_created(harness: Harness) -> None:
    """The account an admin makes (and knows the password of) is not a second person for the admin's own request."""
    conversation = await flagged(harness)
    ada = await harness.console("ada", role="admin supervisor")
    made = await ada.post("/api/admin/users", {"username": "puppet", "roles": ["supervisor"]})
    password = (await made.json())["password"]
    harness.clock.advance(minutes=1)
    requested = await ada.post(f"/api/conversations/{conversation}/disclosures", {"reason": REASON})
    assert requested.status == 201
    disclosure = (await requested.json())["id"]
    puppet = await harness.console()
    assert (await puppet.login("puppet", password)).status == 200
    refused = await puppet.post(f"/api/disclosures/{disclosure}/approve")
    assert refused.status == 403 and "created your account" in (await refused.json())["error"]
    assert (await ada.post(f"/api/disclosures/{disclosure}/reveal")).status == 409
    [(detail,)] = harness.rows("SELECT detail FROM audit WHERE action = 'disclosure.decision_denied'")
    assert "created_by_requester" in detail
    assert harness.rows("SELECT state FROM disclosures") == [("requested",)]


async def test_an_account_made_after_the_request_cannot_decide_it(harness: Harness) -> None:
    """A supervisor account created once the request exists (by anyone) cannot approve it; one from before can."""
    conversation = await flagged(harness)
    sam = await harness.console("sam", role="supervisor")
    tess = await harness.console("tess", role="supervisor")
    harness.clock.advance(minutes=1)
    requested = await sam.post(f"/api/conversations/{conversation}/disclosures", {"reason": REASON})
    disclosure = (await requested.json())["id"]
    harness.clock.advance(minutes=1)
    late: Console = await harness.console("late", role="supervisor")
    refused = await late.post(f"/api/disclosures/{disclosure}/approve")
    assert refused.status == 403 and "after this request" in (await refused.json())["error"]
    assert (await tess.post(f"/api/disclosures/{disclosure}/approve")).status == 200
    shown = await sam.post(f"/api/disclosures/{disclosure}/reveal")
    assert (await shown.json())["address"] == TEXTER
