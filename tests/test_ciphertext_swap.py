"""A ciphertext moved to another row in the database does not decrypt: tampering is caught, not shown."""

from __future__ import annotations

from tests.conftest import Harness


async def test_message_body_swapped_between_conversations(harness: Harness) -> None:
    """Copying one conversation's message body over another's makes that message refuse to open."""
    await harness.text("+447700900123", "first texter's words")
    await harness.text("+447700900456", "second texter's words")
    rows = harness.rows("SELECT id, body FROM messages WHERE direction = 'in' ORDER BY created_at, seq")
    (_, first_body), (second_id, _) = rows
    harness.db.execute("UPDATE messages SET body = ? WHERE id = ?", (first_body, second_id))
    supervisor = await harness.console("sam", role="supervisor")
    conversation = harness.rows("SELECT conversation_id FROM messages WHERE id = ?", (second_id,))[0][0]
    response = await supervisor.get(f"/api/conversations/{conversation}")
    assert response.status == 500
    text = await response.text()
    assert "first texter" not in text and "Traceback" not in text
    assert "request_id" in await response.json()


async def test_vault_swapped_between_conversations(harness: Harness) -> None:
    """A vault entry copied to another conversation cannot be opened to send a reply there."""
    await harness.text("+447700900123", "one")
    harness.clock.advance(seconds=1)
    await harness.text("+447700900456", "two")
    (_, first_address), (second, _) = harness.rows(
        "SELECT v.conversation_id, v.address FROM vault v JOIN conversations c ON c.id = v.conversation_id"
        " ORDER BY c.created_at, c.id"
    )
    harness.db.execute("UPDATE vault SET address = ? WHERE conversation_id = ?", (first_address, second))
    await harness.send_outbox()
    assert [m["To"] for m in harness.twilio.created] == ["+447700900123"]
