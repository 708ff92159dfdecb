"""Every repository method behaves the same on both engines (this file runs on SQLite and on PostgreSQL).

Each test drives one repository through its methods against a real store, in write units as the core does,
and reads the results back; times round-trip exactly, binary values byte for byte.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from helpline.audit.chain import first_bad
from helpline.audit.events import AuditEntry
from helpline.core.ids import new_id
from helpline.core.models import (
    Block,
    CannedResponse,
    Disclosure,
    Escalation,
    KeyRef,
    OutboxItem,
    SealedSecret,
    Session,
    StaffNotification,
    StoredNote,
    StoredRecord,
)
from helpline.core.ports import Tx
from helpline.store.migrations import all_migrations
from tests.conftest import FakeClock
from tests.stored import Store, conversation, message, opened, user


async def test_conversations(store: Store, clock: FakeClock) -> None:
    """Insert, find by route and thread, vault, claim, sequence numbers, queue, close, reopen, records."""
    amira = await user(store, clock, "amira")
    first = await opened(store, clock)
    clock.advance(seconds=1)
    second = await opened(store, clock)
    w = store.write
    assert await w(lambda tx: tx.conversations.add_route(b"route-1", first.id))
    assert not await w(lambda tx: tx.conversations.add_route(b"route-1", second.id))
    found = await w(lambda tx: tx.conversations.find_by_route(b"route-1"))
    assert found == replace(first, assignee_name=None)
    assert await store.read(lambda tx: tx.conversations.route_of(first.id)) == b"route-1"
    await w(lambda tx: tx.conversations.add_thread_key(b"thread-1", first.id))
    await w(lambda tx: tx.conversations.add_thread_key(b"thread-1", first.id))  # twice is harmless
    assert (await w(lambda tx: tx.conversations.find_by_thread([b"nope", b"thread-1"]))).id == first.id  # type: ignore[union-attr]
    assert await w(lambda tx: tx.conversations.find_by_thread([])) is None
    await w(lambda tx: tx.conversations.put_vault(first.id, b"sealed-address"))
    await w(lambda tx: tx.conversations.put_reply_context(first.id, b"sealed-context"))
    assert await store.read(lambda tx: tx.conversations.get_vault(first.id)) == b"sealed-address"
    assert await store.read(lambda tx: tx.conversations.get_reply_context(first.id)) == b"sealed-context"
    assert await w(lambda tx: tx.conversations.next_seq(first.id, 2)) == 1
    assert await w(lambda tx: tx.conversations.next_seq(first.id, 0)) == 2
    assert (await w(lambda tx: tx.conversations.lock(first.id))).priority == 2  # type: ignore[union-attr]
    assert (await store.read(lambda tx: tx.conversations.next_waiting())).id == first.id  # type: ignore[union-attr]
    assert await store.read(lambda tx: tx.conversations.waiting_stats()) == (2, first.waiting_since)
    assert await w(lambda tx: tx.conversations.claim(first.id, amira.id))
    assert not await w(lambda tx: tx.conversations.claim(first.id, amira.id))
    assert await store.read(lambda tx: tx.conversations.count_active(amira.id)) == 1
    assert [c.id for c in await store.read(lambda tx: tx.conversations.queue(amira.id, 10))] == [second.id, first.id]
    assert [c.assignee_name for c in await store.read(lambda tx: tx.conversations.held())] == ["amira"]
    assert await w(lambda tx: tx.conversations.assign(first.id, amira.id))
    assert await w(lambda tx: tx.conversations.return_to_queue(first.id))
    assert await w(lambda tx: tx.conversations.claim(first.id, amira.id))
    await w(lambda tx: tx.conversations.set_classification(first.id, "parent", "runaway"))
    await w(lambda tx: tx.conversations.set_contact_left(first.id, "ended", clock.now()))
    assert (await store.read(lambda tx: tx.conversations.get(first.id))).contact_left_reason == "ended"  # type: ignore[union-attr]
    clock.advance(minutes=1)
    assert await w(lambda tx: tx.conversations.close(first.id, "advice", clock.now()))
    assert not await w(lambda tx: tx.conversations.close(first.id, "advice", clock.now()))
    closed = await store.read(lambda tx: tx.conversations.get(first.id))
    assert closed is not None and closed.status == "closed" and closed.closed_at == clock.now()
    assert await w(lambda tx: tx.conversations.reopen(first.id, clock.now()))
    assert not await w(lambda tx: tx.conversations.reopen(first.id, clock.now()))
    await w(lambda tx: tx.conversations.remove_route(first.id))
    assert await w(lambda tx: tx.conversations.find_by_route(b"route-1")) is None
    assert await w(lambda tx: tx.conversations.find_by_thread([b"thread-1"])) is None
    await w(lambda tx: tx.conversations.delete_vault(first.id))
    assert await store.read(lambda tx: tx.conversations.get_vault(first.id)) is None
    third = conversation(clock)

    async def discarded(tx: Tx) -> None:
        await tx.conversations.insert(third)
        await tx.conversations.discard(third.id)

    await w(discarded)
    assert await store.read(lambda tx: tx.conversations.get(third.id)) is None


async def test_messages_inbox_and_intake(store: Store, clock: FakeClock) -> None:
    """Messages in order with their delivery; idempotency keys once; the intake queue oldest first."""
    held = await opened(store, clock)
    one, two = message(held.id, 1, clock), message(held.id, 2, clock, "out")
    await store.write(lambda tx: tx.messages.insert(one, b"sealed-provider-id"))
    await store.write(lambda tx: tx.messages.insert(two))
    assert await store.read(lambda tx: tx.messages.get(one.id)) == one
    assert [m.id for m in await store.read(lambda tx: tx.messages.for_conversation(held.id))] == [one.id, two.id]
    assert [m.seq for m in await store.read(lambda tx: tx.messages.after(held.id, 1, 10))] == [2]
    await store.write(lambda tx: tx.messages.set_delivery(two.id, "failed", "21610"))
    await store.write(lambda tx: tx.messages.set_delivery(two.id, "failed", None))
    got = await store.read(lambda tx: tx.messages.get(two.id))
    assert got is not None and (got.delivery, got.delivery_error) == ("failed", "21610")
    await store.write(lambda tx: tx.messages.set_provider_id(two.id, b"sealed-out-id"))
    assert await store.read(lambda tx: tx.provider_deletions.sealed_provider_id(two.id)) == b"sealed-out-id"

    assert await store.write(lambda tx: tx.inbox.remember(b"idem", clock.now()))
    assert not await store.write(lambda tx: tx.inbox.remember(b"idem", clock.now()))
    assert await store.read(lambda tx: tx.inbox.seen(b"idem"))

    for n in range(3):
        await store.write(lambda tx, n=n: tx.intake.add(f"intake-{n}", clock.now(), bytes([n]) * 40))  # type: ignore[misc]
    await store.write(lambda tx: tx.intake.failed("intake-0"))
    waiting = await store.read(lambda tx: tx.intake.waiting(10, 1))
    assert [(a.id, a.accepted_at, a.attempts) for a in waiting] == [
        ("intake-1", clock.now(), 0),
        ("intake-2", clock.now(), 0),
    ]
    assert len(await store.read(lambda tx: tx.intake.sealed())) == 3
    assert await store.write(lambda tx: tx.intake.remove("intake-1"))
    assert not await store.write(lambda tx: tx.intake.remove("intake-1"))


async def test_outbox(store: Store, clock: FakeClock) -> None:
    """An item is due once its time comes, claimed only while due, and counted until done."""
    held = await opened(store, clock, "active")
    reply = message(held.id, 1, clock, "out")
    item = OutboxItem(new_id(), reply.id, held.id, "sms", "pending", 0, clock.now() + timedelta(seconds=5))

    async def add(tx: Tx) -> None:
        await tx.messages.insert(reply)
        await tx.outbox.add(item)

    await store.write(add)
    assert await store.read(lambda tx: tx.outbox.get(item.id)) == item
    assert await store.read(lambda tx: tx.outbox.due(clock.now(), 10)) == []
    assert await store.write(lambda tx: tx.outbox.claim(item.id, clock.now())) is None
    clock.advance(seconds=5)
    assert await store.write(lambda tx: tx.outbox.claim(item.id, clock.now())) == item
    assert await store.read(lambda tx: tx.outbox.pending_for(held.id)) == 1
    await store.write(lambda tx: tx.outbox.update(item.id, "done", 1, clock.now()))
    assert await store.read(lambda tx: tx.outbox.pending_for(held.id)) == 0
    assert await store.write(lambda tx: tx.outbox.claim(item.id, clock.now())) is None


async def test_users_and_sessions(store: Store, clock: FakeClock) -> None:
    """Accounts by id and name, availability, sign-in failures and lock-out, TOTP steps, sessions."""
    amira = await user(store, clock, "amira")
    assert not await store.write(lambda tx: tx.users.insert(replace(amira, id=new_id()), clock.now()))
    assert await store.read(lambda tx: tx.users.by_name("amira")) == amira
    await store.write(lambda tx: tx.users.lock(amira.id))
    await store.write(lambda tx: tx.users.set_availability(amira.id, "available"))
    await store.write(lambda tx: tx.users.set_disabled(amira.id, True))
    disabled = await store.read(lambda tx: tx.users.get(amira.id))
    assert disabled is not None and disabled.disabled and disabled.availability == "offline"
    await store.write(lambda tx: tx.users.set_roles(amira.id, frozenset({"volunteer", "supervisor"})))
    assert (await store.read(lambda tx: tx.users.get(amira.id))).roles == {"volunteer", "supervisor"}  # type: ignore[union-attr]
    await store.write(lambda tx: tx.users.set_disabled(amira.id, False))
    await store.write(lambda tx: tx.users.set_totp_pending(amira.id, b"sealed-seed"))
    assert await store.write(lambda tx: tx.users.confirm_totp(amira.id, 100))
    assert not await store.write(lambda tx: tx.users.confirm_totp(amira.id, 100))
    assert await store.read(lambda tx: tx.users.totp(amira.id)) == (b"sealed-seed", None, 100)
    assert not await store.write(lambda tx: tx.users.use_totp_step(amira.id, 100))
    assert await store.write(lambda tx: tx.users.use_totp_step(amira.id, 101))
    await store.write(lambda tx: tx.users.reset_totp(amira.id))
    assert await store.read(lambda tx: tx.users.totp(amira.id)) == (None, None, None)
    assert [u.username for u in await store.read(lambda tx: tx.users.all())] == ["amira"]

    session = Session(b"token-hash", amira, "csrf", clock.now(), clock.now())
    await store.write(lambda tx: tx.sessions.insert(session))
    clock.advance(minutes=3)
    await store.write(lambda tx: tx.sessions.touch(b"token-hash", clock.now()))
    got = await store.read(lambda tx: tx.sessions.get(b"token-hash"))
    assert got is not None and got.user.id == amira.id and got.last_seen_at == clock.now()
    await store.write(lambda tx: tx.sessions.delete(b"token-hash"))
    assert await store.read(lambda tx: tx.sessions.get(b"token-hash")) is None


async def test_audit_chain(store: Store, clock: FakeClock) -> None:
    """Entries come back in order, with their details and times, and the chain verifies."""
    for n in range(3):
        entry = AuditEntry(clock.now(), "system", "test.entry", f"object-{n}", {"n": str(n)})
        await store.write(lambda tx, entry=entry: tx.audit.append(entry))  # type: ignore[misc]
        clock.advance(seconds=1)
    rows = await store.read(lambda tx: tx.audit.rows())
    assert [(r.seq, r.entry.object_id, r.entry.detail) for r in rows] == [
        (1, "object-0", {"n": "0"}),
        (2, "object-1", {"n": "1"}),
        (3, "object-2", {"n": "2"}),
    ]
    assert first_bad(rows) is None


async def test_console_tables(store: Store, clock: FakeClock) -> None:
    """Notes in order, records by blind index, blocks until lifted, canned responses, runtime settings."""
    amira = await user(store, clock, "amira")
    held = await opened(store, clock, "active")
    notes = [StoredNote(new_id(), held.id, amira.id, None, "note", b"sealed", clock.now()) for _ in range(3)]
    for note in notes:
        await store.write(lambda tx, note=note: tx.notes.insert(note))  # type: ignore[misc]
    stored = await store.read(lambda tx: tx.notes.for_conversation(held.id))
    assert [n.id for n in stored] == [n.id for n in notes] and stored[0].author_name == "amira"

    record = StoredRecord(
        new_id(), KeyRef("records", "r", b"wrapped", 1), b"blind", b"n", b"d", b"c", b"s", "May we keep this?",
        clock.now(), amira.id, None, clock.now(),
    )  # fmt: skip
    record = replace(record, key=KeyRef("records", record.id, b"wrapped", 1))
    await store.write(lambda tx: tx.records.insert(record, held.id))
    assert await store.read(lambda tx: tx.records.get(record.id)) == replace(record, created_by_name="amira")
    assert await store.read(lambda tx: tx.records.find(b"blind")) == record.id
    await store.write(lambda tx: tx.conversations.set_record(held.id, record.id))
    assert await store.read(lambda tx: tx.conversations.for_record(record.id)) == [held.id]

    block = Block(new_id(), held.id, "abuse", amira.id, clock.now(), clock.now() + timedelta(days=1), None)
    await store.write(lambda tx: tx.blocks.insert(block, b"route-1"))
    assert await store.read(lambda tx: tx.blocks.active_for(b"route-1", clock.now()))
    assert await store.read(lambda tx: tx.blocks.for_conversation(held.id, clock.now()))
    assert [b.created_by for b in await store.read(lambda tx: tx.blocks.active(clock.now()))] == ["amira"]
    assert await store.write(lambda tx: tx.blocks.lift(block.id, amira.id, clock.now()))
    assert not await store.read(lambda tx: tx.blocks.active_for(b"route-1", clock.now()))

    hello = CannedResponse(new_id(), "hello", "Hello", "Hello, you are talking to the helpline.")
    assert await store.write(lambda tx: tx.canned.upsert(hello, clock.now()))
    assert not await store.write(lambda tx: tx.canned.upsert(replace(hello, id=new_id()), clock.now()))
    assert await store.write(lambda tx: tx.canned.upsert(replace(hello, title="Hi"), clock.now()))
    assert await store.read(lambda tx: tx.canned.all()) == [replace(hello, title="Hi")]
    assert await store.write(lambda tx: tx.canned.delete(hello.id))

    await store.write(lambda tx: tx.runtime_settings.put("hours", "{}", clock.now()))
    await store.write(lambda tx: tx.runtime_settings.put("hours", '{"monday": []}', clock.now()))
    assert await store.read(lambda tx: tx.runtime_settings.get("hours")) == '{"monday": []}'
    assert await store.read(lambda tx: tx.runtime_settings.get("nothing")) is None


async def test_safeguarding_tables(store: Store, clock: FakeClock) -> None:
    """Escalations through their states, disclosures, whispers and joins, staff notifications."""
    amira, sam = await user(store, clock, "amira"), await user(store, clock, "sam", "supervisor")
    held = await opened(store, clock, "active")
    escalation = Escalation(
        new_id(), held.id, "suicide", "immediate_danger", b"sealed", "raised", amira.id, clock.now(),
        None, None, None, None, None, None, None, clock.now() + timedelta(minutes=5), 1, None,
    )  # fmt: skip
    await store.write(lambda tx: tx.escalations.insert(escalation))
    assert await store.read(lambda tx: tx.escalations.get(escalation.id)) == escalation
    assert await store.write(lambda tx: tx.escalations.due_alerts(clock.now())) == []
    clock.advance(minutes=5)
    assert [e.id for e in await store.write(lambda tx: tx.escalations.due_alerts(clock.now()))] == [escalation.id]
    await store.write(lambda tx: tx.escalations.alerted(escalation.id, clock.now() + timedelta(minutes=5), clock.now()))
    alerted = await store.read(lambda tx: tx.escalations.get(escalation.id))
    assert alerted is not None and (alerted.alerts, alerted.oncall_notified_at) == (2, clock.now())
    assert await store.write(lambda tx: tx.escalations.acknowledge(escalation.id, sam.id, clock.now()))
    assert not await store.write(lambda tx: tx.escalations.acknowledge(escalation.id, sam.id, clock.now()))
    assert await store.write(lambda tx: tx.escalations.decide(escalation.id, sam.id, "referred", b"n", clock.now()))
    assert [e.state for e in await store.read(lambda tx: tx.escalations.open())] == ["decided"]
    assert await store.write(lambda tx: tx.escalations.close(escalation.id, sam.id, clock.now()))
    assert await store.read(lambda tx: tx.escalations.open()) == []
    assert len(await store.read(lambda tx: tx.escalations.for_conversation(held.id))) == 1

    disclosure = Disclosure(
        new_id(), held.id, escalation.id, sam.id, None, clock.now(), "danger", "requested", None, None
    )
    await store.write(lambda tx: tx.disclosures.insert(disclosure))
    assert [d.requested_by_name for d in await store.read(lambda tx: tx.disclosures.pending())] == ["sam"]
    assert await store.write(
        lambda tx: tx.disclosures.set_state(disclosure.id, "requested", "approved", amira.id, clock.now())
    )
    assert not await store.write(
        lambda tx: tx.disclosures.set_state(disclosure.id, "requested", "refused", amira.id, clock.now())
    )
    assert (await store.read(lambda tx: tx.disclosures.get(disclosure.id))).state == "approved"  # type: ignore[union-attr]

    await store.write(lambda tx: tx.oversight.add_whisper(new_id(), held.id, sam.id, b"sealed", clock.now()))
    assert [w.author_name for w in await store.read(lambda tx: tx.oversight.whispers(held.id))] == ["sam"]
    await store.write(lambda tx: tx.oversight.join(held.id, sam.id, clock.now()))
    assert await store.read(lambda tx: tx.oversight.joined(held.id, sam.id))
    await store.write(lambda tx: tx.audit.append(AuditEntry(clock.now(), sam.id, "conversation.viewed", held.id)))
    since = clock.now() - timedelta(minutes=1)
    assert await store.read(lambda tx: tx.oversight.recently_audited(sam.id, "conversation.viewed", held.id, since))

    notice = StaffNotification(new_id(), "sms", "Helpline: an escalation was raised.", "pending", 0, clock.now())
    await store.write(lambda tx: tx.staff_notifications.add(notice, clock.now()))
    assert await store.read(lambda tx: tx.staff_notifications.due(clock.now(), 10)) == [notice]
    later = clock.now() + timedelta(minutes=2)
    claimed = await store.write(lambda tx: tx.staff_notifications.claim(notice.id, clock.now(), later))
    assert claimed == replace(notice, attempts=1, next_attempt_at=later)
    assert await store.write(lambda tx: tx.staff_notifications.claim(notice.id, clock.now(), later)) is None
    await store.write(lambda tx: tx.staff_notifications.update(notice.id, "done", 1, later))
    assert await store.read(lambda tx: tx.staff_notifications.due(later, 10)) == []


async def test_retention_and_keys(store: Store, clock: FakeClock) -> None:
    """Addresses and transcripts come due and go; records shred; key material is listed, replaced and versioned."""
    amira = await user(store, clock, "amira")
    held = await opened(store, clock, "active")
    inbound = message(held.id, 1, clock)

    async def fill(tx: Tx) -> None:
        await tx.conversations.add_route(b"route-1", held.id)
        await tx.conversations.put_vault(held.id, b"sealed-address")
        await tx.messages.insert(inbound, b"sealed-provider-id")
        await tx.inbox.remember(b"idem", clock.now())

    await store.write(fill)
    assert [r.conversation_id for r in await store.read(lambda tx: tx.keys.routes(None, 10))] == [held.id]
    assert await store.write(lambda tx: tx.keys.rekey_route(held.id, b"route-1", b"route-2"))
    assert await store.read(lambda tx: tx.keys.count_wrapped(1)) == 1
    [wrapped] = await store.read(lambda tx: tx.keys.wrapped(None, 10, None))
    assert await store.read(lambda tx: tx.keys.wrapped(None, 10, 1)) == []
    assert await store.write(
        lambda tx: tx.keys.replace_wrapped(wrapped, replace(wrapped, wrapped=b"new", kek_version=2))
    )
    assert not await store.write(
        lambda tx: tx.keys.replace_wrapped(wrapped, replace(wrapped, wrapped=b"x", kek_version=2))
    )
    await store.write(lambda tx: tx.users.set_totp_pending(amira.id, b"sealed-seed"))
    [secret] = await store.read(lambda tx: tx.keys.secrets())
    assert secret == SealedSecret(amira.id, "totp_pending", b"sealed-seed")
    assert await store.write(lambda tx: tx.keys.replace_secret(secret, b"resealed"))
    await store.write(lambda tx: tx.keys.version_added(2, clock.now()))
    await store.write(lambda tx: tx.keys.version_rewrapped(2, clock.now()))
    await store.write(lambda tx: tx.keys.version_retired(1, clock.now()))
    assert [(v.version, v.retired_at is not None) for v in await store.read(lambda tx: tx.keys.versions())] == [
        (1, True),
        (2, False),
    ]

    queued = await store.write(lambda tx: tx.provider_deletions.enqueue(["sms"], ["delivered"], clock.now()))
    assert queued == 1
    assert await store.write(lambda tx: tx.provider_deletions.enqueue(["sms"], ["delivered"], clock.now())) == 0
    [due] = await store.read(lambda tx: tx.provider_deletions.due(clock.now(), 10))
    assert (due.message_id, due.direction) == (inbound.id, "in")
    await store.write(
        lambda tx: tx.provider_deletions.retry(inbound.id, 1, clock.now() + timedelta(minutes=1), "20003")
    )
    assert await store.read(lambda tx: tx.provider_deletions.due(clock.now(), 10)) == []
    await store.write(lambda tx: tx.provider_deletions.done(inbound.id))
    assert await store.read(lambda tx: tx.provider_deletions.sealed_provider_id(inbound.id)) is None

    await store.write(lambda tx: tx.conversations.close(held.id, "advice", clock.now()))
    clock.advance(days=40)
    assert await store.read(lambda tx: tx.retention.addresses_due(clock.now(), 10)) == [held.id]
    await store.write(lambda tx: tx.retention.forget_address(held.id))
    assert await store.read(lambda tx: tx.retention.addresses_due(clock.now(), 10)) == []
    assert not await store.read(lambda tx: tx.retention.held_for_safeguarding(held.id, clock.now()))
    assert await store.read(lambda tx: tx.retention.transcripts_due(clock.now(), clock.now(), 10)) == [held.id]
    assert await store.write(lambda tx: tx.retention.shred_conversation(held.id, clock.now()))
    assert not await store.write(lambda tx: tx.retention.shred_conversation(held.id, clock.now()))
    assert not await store.write(lambda tx: tx.conversations.reopen(held.id, clock.now()))
    assert await store.read(lambda tx: tx.messages.for_conversation(held.id)) == []
    assert await store.write(lambda tx: tx.retention.forget_inbound_keys(clock.now())) == 1
    assert await store.write(lambda tx: tx.retention.forget_ended_blocks(clock.now())) == 0

    record = StoredRecord(
        new_id(), None, b"blind", b"n", b"d", b"c", b"s", "May we keep this?",
        clock.now() - timedelta(days=400), amira.id, None, clock.now(),
    )  # fmt: skip
    record = replace(record, key=KeyRef("records", record.id, b"wrapped", 1))
    await store.write(lambda tx: tx.records.insert(record, held.id))
    assert await store.read(lambda tx: tx.retention.records_due(clock.now(), 10)) == [record.id]
    assert await store.write(lambda tx: tx.retention.shred_record(record.id, "expired", clock.now()))
    assert not await store.write(lambda tx: tx.retention.shred_record(record.id, "expired", clock.now()))
    assert await store.read(lambda tx: tx.records.find(b"blind")) is None


def test_both_engines_have_every_migration() -> None:
    """Each schema version exists for both engines, under the same name: version N is one schema on either."""
    sqlite = [(m.version, m.name) for m in all_migrations()]
    postgres = [(m.version, m.name) for m in all_migrations("helpline.store.postgres")]
    assert sqlite == postgres


async def test_signin_limits_and_later_columns(store: Store, clock: FakeClock) -> None:
    """Sign-in counters count, lock and are forgotten; a priority is raised only upward; a meaning is kept."""
    key, since = b"hmac-of-a-name", clock.now() - timedelta(minutes=15)
    assert [await store.write(lambda tx: tx.signin_limits.count(key, clock.now(), since, 3)) for _ in range(4)] == [
        1,
        2,
        3,
        None,
    ]
    await store.write(lambda tx: tx.signin_limits.take_back(key))
    assert (await store.read(lambda tx: tx.signin_limits.get(key))).attempts == 2  # type: ignore[union-attr]
    await store.write(lambda tx: tx.signin_limits.count(key, clock.now(), since, 3))
    until = clock.now() + timedelta(minutes=30)
    assert await store.write(lambda tx: tx.signin_limits.lock(key, until, 3))
    assert await store.read(lambda tx: tx.signin_limits.locked([key, b"other"], clock.now())) == {key}
    assert not await store.write(lambda tx: tx.signin_limits.clear_unless_locked(key, clock.now()))
    await store.write(lambda tx: tx.signin_limits.delay(key, until))
    clock.advance(hours=1)
    assert await store.write(lambda tx: tx.signin_limits.forget(clock.now(), clock.now())) == 1
    await store.write(lambda tx: tx.signin_limits.count(key, clock.now(), since, 3))
    await store.write(lambda tx: tx.signin_limits.clear(key))
    assert await store.read(lambda tx: tx.signin_limits.get(key)) is None

    held = await opened(store, clock)
    assert await store.write(lambda tx: tx.conversations.raise_priority(held.id, 2))
    assert not await store.write(lambda tx: tx.conversations.raise_priority(held.id, 1))
    inbound = message(held.id, 1, clock)
    await store.write(lambda tx: tx.messages.insert(inbound))
    await store.write(lambda tx: tx.messages.set_meaning(inbound.id, b"sealed-meaning"))
    assert (await store.read(lambda tx: tx.messages.get(inbound.id))).meaning == b"sealed-meaning"  # type: ignore[union-attr]


async def test_message_append_numbers_and_raises(store: Store, clock: FakeClock) -> None:
    """``append`` numbers a message as ``next_seq`` does, raises the priority and keeps the reason and provider id."""
    held = await opened(store, clock)
    w = store.write
    first, second = message(held.id, 0, clock), message(held.id, 0, clock, "out")
    assert await w(lambda tx: tx.messages.append(first, 2, b"why-2", b"sealed-provider-id")) == 1
    assert await w(lambda tx: tx.messages.append(second)) == 2
    assert await w(lambda tx: tx.conversations.next_seq(held.id)) == 3
    stored = await store.read(lambda tx: tx.messages.for_conversation(held.id))
    assert [(m.id, m.seq, m.direction) for m in stored] == [(first.id, 1, "in"), (second.id, 2, "out")]
    got = await store.read(lambda tx: tx.conversations.get(held.id))
    assert got is not None and (got.priority, got.risk_why, got.last_seq) == (2, b"why-2", 3)
    assert await store.read(lambda tx: tx.provider_deletions.sealed_provider_id(first.id)) == b"sealed-provider-id"


async def test_shift_reasons_and_reconciliation(store: Store, clock: FakeClock) -> None:
    """A risk reason kept only when the priority rises; unanswered counts; held, left and sending rows; accounts."""
    amira, sam = await user(store, clock, "amira"), await user(store, clock, "sam", "supervisor")
    w = store.write
    held = await opened(store, clock)
    assert await w(lambda tx: tx.conversations.next_seq(held.id, 1, b"why-1")) == 1
    assert await w(lambda tx: tx.conversations.next_seq(held.id, 1, b"why-same")) == 2
    assert await w(lambda tx: tx.conversations.next_seq(held.id, 3, None)) == 3
    assert (await store.read(lambda tx: tx.conversations.get(held.id))).risk_why == b"why-1"  # type: ignore[union-attr]
    assert await w(lambda tx: tx.conversations.next_seq(held.id, 4, b"why-4")) == 4
    got = await store.read(lambda tx: tx.conversations.get(held.id))
    assert got is not None and (got.priority, got.risk_why) == (4, b"why-4")

    # Messages 1 and 2 came in, a volunteer answered at 3, then 4 and 5 came in with an automatic reply between.
    rows = [
        message(held.id, 1, clock),
        message(held.id, 2, clock),
        replace(message(held.id, 3, clock, "out"), author_id=amira.id),
        replace(message(held.id, 4, clock), created_at=clock.now() + timedelta(seconds=7)),
        message(held.id, 5, clock, "out"),
        replace(message(held.id, 6, clock), created_at=clock.now() + timedelta(seconds=9)),
    ]
    for row in rows:
        await w(lambda tx, row=row: tx.messages.insert(row))  # type: ignore[misc]
    quiet = await opened(store, clock)
    counts = await store.read(lambda tx: tx.conversations.unanswered([held.id, quiet.id]))
    assert counts == {held.id: (2, clock.now() + timedelta(seconds=7))}
    assert await store.read(lambda tx: tx.conversations.unanswered([])) == {}

    assert await w(lambda tx: tx.conversations.claim(held.id, amira.id))
    assert [c.id for c in await store.read(lambda tx: tx.conversations.held_by(amira.id))] == [held.id]
    assert await store.read(lambda tx: tx.conversations.held_by(sam.id)) == []
    await w(lambda tx: tx.conversations.set_contact_left(quiet.id, "ended", clock.now()))
    assert await store.read(lambda tx: tx.conversations.next_waiting()) is None
    assert await store.read(lambda tx: tx.conversations.waiting_stats()) == (0, None)

    reply = message(held.id, 7, clock, "out")
    item = OutboxItem(new_id(), reply.id, held.id, "sms", "sending", 1, clock.now() + timedelta(minutes=5))

    async def add(tx: Tx) -> None:
        await tx.messages.insert(reply)
        await tx.outbox.add(item)

    await w(add)
    assert await store.read(lambda tx: tx.outbox.sending(10)) == [item]
    await w(lambda tx: tx.outbox.update(item.id, "done", 1, clock.now()))
    assert await store.read(lambda tx: tx.outbox.sending(10)) == []

    await w(lambda tx: tx.users.set_password_hash(amira.id, "new-argon2-hash"))
    assert (await store.read(lambda tx: tx.users.get(amira.id))).password_hash == "new-argon2-hash"  # type: ignore[union-attr]
    for token in (b"keep", b"drop-1", b"drop-2"):
        await w(lambda tx, token=token: tx.sessions.insert(Session(token, amira, "csrf", clock.now(), clock.now())))  # type: ignore[misc]
    await w(lambda tx: tx.sessions.insert(Session(b"sams", sam, "csrf", clock.now(), clock.now())))
    await w(lambda tx: tx.sessions.delete_for_user(amira.id, b"keep"))
    assert await store.read(lambda tx: tx.sessions.get(b"keep")) is not None
    assert await store.read(lambda tx: tx.sessions.get(b"drop-1")) is None
    assert await store.read(lambda tx: tx.sessions.get(b"sams")) is not None
    await w(lambda tx: tx.sessions.delete_for_user(amira.id, None))
    assert await store.read(lambda tx: tx.sessions.get(b"keep")) is None

    def escalation(raised: timedelta) -> Escalation:
        return Escalation(
            new_id(), held.id, "suicide", "concern", b"sealed", "raised", amira.id, clock.now() + raised,
            None, None, None, None, None, None, None, None, 0, None,
        )  # fmt: skip

    early, late, still_open = escalation(timedelta(0)), escalation(timedelta(minutes=1)), escalation(timedelta(0))
    for made in (early, late, still_open):
        await w(lambda tx, made=made: tx.escalations.insert(made))  # type: ignore[misc]
    for made, at in ((early, clock.now()), (late, clock.now() + timedelta(minutes=2))):
        assert await w(lambda tx, made=made: tx.escalations.acknowledge(made.id, sam.id, clock.now()))  # type: ignore[misc]
        await w(lambda tx, made=made: tx.escalations.decide(made.id, sam.id, "referred", b"n", clock.now()))  # type: ignore[misc]
        assert await w(lambda tx, made=made, at=at: tx.escalations.close(made.id, sam.id, at))  # type: ignore[misc]
    since = clock.now() + timedelta(minutes=1)
    assert [e.id for e in await store.read(lambda tx: tx.escalations.closed_since(since, 10))] == [late.id]
    assert [e.id for e in await store.read(lambda tx: tx.escalations.closed_since(clock.now(), 10))] == [
        late.id,
        early.id,
    ]
    assert len(await store.read(lambda tx: tx.escalations.closed_since(clock.now(), 1))) == 1
