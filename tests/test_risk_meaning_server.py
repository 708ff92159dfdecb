"""The meaning layer in a running server: after commit, off the webhook path, raising only; or off, and saying so."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpline.app import build
from helpline.semantic.model import ModelFiles, installed_files
from helpline.settings import Settings
from helpline.testing.twilio_api import FakeTwilio
from tests.conftest import CapturedLog, FakeClock, Harness
from tests.test_risk_queue import text_values

CONTACT = "+447700900111"
OTHER = "+447700900112"
# Words the lexicon has no rule for; read as self-harm, close in meaning to "I've been hurting myself with a blade".
PARAPHRASE = "i keep dragging a razor across my thighs"


def packaged() -> ModelFiles:
    files = installed_files()
    assert isinstance(files, ModelFiles)
    return files


async def start(
    settings: Settings, clock: FakeClock, fake_twilio: FakeTwilio, data_dir: Path, port: int, files: ModelFiles
) -> Harness:
    helpline = build(settings.replace("safeguarding", meaning_layer=True), clock, model_files=files)
    return await Harness.serving(helpline, fake_twilio, clock, data_dir, port)


@pytest.fixture
async def meaning(
    settings: Settings, clock: FakeClock, fake_twilio: FakeTwilio, data_dir: Path, port: int
) -> AsyncIterator[Harness]:
    running = await start(settings, clock, fake_twilio, data_dir, port, packaged())
    yield running
    await running.close()


async def read_meaning(harness: Harness) -> int:
    """Run the meaning worker once, as it runs by itself after each commit."""
    assert harness.helpline.meaning is not None
    return await harness.helpline.meaning.run_once()


async def test_a_paraphrase_raises_the_conversation_after_it_is_committed(meaning: Harness) -> None:
    """The webhook commits at the lexicon's band (none); the meaning worker then raises the queue row to band 2."""
    await meaning.text(CONTACT, PARAPHRASE)
    volunteer = await meaning.console("amira")
    [row] = await volunteer.queue()
    assert row["priority"] == 0  # what the webhook's own transaction set: the model is off its path
    assert await read_meaning(meaning) == 1
    [row] = await volunteer.queue()
    assert row["priority"] == 2
    assert row["risk"] == {
        "category": "self_harm",
        "reason": "similar in meaning to: I've been hurting myself with a blade",
    }


async def test_the_volunteer_sees_what_it_was_similar_in_meaning_to(meaning: Harness) -> None:
    """The message carries the prototype it resembled, its category and a strength between 0 and 1."""
    await meaning.text(CONTACT, PARAPHRASE)
    await read_meaning(meaning)
    volunteer = await meaning.console("amira")
    [row] = await volunteer.queue()
    conversation = await volunteer.conversation(row["id"])
    [message] = [m for m in conversation["messages"] if m["direction"] == "in"]
    assert message["risk"] == []
    [match] = message["meaning"]
    assert match["category"] == "self_harm" and match["weight"] == 2
    assert "blade" in match["prototype"] and 0.5 < match["strength"] <= 1


async def test_the_meaning_layer_never_lowers_a_priority(meaning: Harness) -> None:
    """A conversation at band 3 from the lexicon stays at 3 when the meaning layer reads band 2 in it."""
    await meaning.text(CONTACT, "i've taken all my pills")
    await meaning.text(CONTACT, PARAPHRASE)
    await read_meaning(meaning)
    volunteer = await meaning.console("amira")
    [row] = await volunteer.queue()
    assert row["priority"] == 3


async def test_a_negated_message_is_not_raised(meaning: Harness) -> None:
    """ "I don't want to die" raises nothing, through the rules or through meaning."""
    await meaning.text(CONTACT, "I don't want to die, I just need to talk")
    await read_meaning(meaning)
    volunteer = await meaning.console("amira")
    [row] = await volunteer.queue()
    assert row["priority"] == 0


async def test_the_reading_is_sealed_and_never_logged(meaning: Harness, captured_log: CapturedLog) -> None:
    """The prototype and category are stored sealed under the conversation's key; the log has ids only."""
    await meaning.text(CONTACT, PARAPHRASE)
    await read_meaning(meaning)
    stored = text_values(meaning)
    assert "razor" not in stored and "blade" not in stored
    [(sealed,)] = meaning.rows("SELECT meaning FROM messages WHERE direction = 'in'")
    assert isinstance(sealed, bytes) and b"self_harm" not in sealed and b"compass" not in sealed
    assert "compass" not in captured_log.text


async def test_messages_are_read_in_order_and_the_queue_is_bounded(meaning: Harness) -> None:
    """Past ``meaning_queue`` waiting, the oldest is skipped and counted; the rest are read in order."""
    worker = meaning.helpline.meaning
    assert worker is not None
    for number in range(1005):
        worker.committed("c", f"m{number}", "hello")
    assert worker.backlog == 1000 and worker.skipped_total == 5
    assert await read_meaning(meaning) == 1000
    assert worker.backlog == 0


async def test_ready_says_the_meaning_layer_is_on(meaning: Harness, captured_log: CapturedLog) -> None:
    """/readyz reports the meaning layer on, with the model's name, and the start-up log said so."""
    client = await meaning.console()
    body = await (await client.get("/readyz")).json()
    assert body["status"] == "ok" and body["meaning_layer"] == "on"
    assert "all-MiniLM-L6-v2" in body["meaning_layer_detail"]
    [line] = [json.loads(x) for x in captured_log.lines if "risk.meaning_layer" in x]
    assert line["state"] == "on"


@pytest.mark.parametrize(
    ("tamper", "said"),
    [
        ("hash", "the model file"),
        ("missing", "the model file"),
        ("weights hash", "the classifier file's SHA-256"),
        ("weights missing", "the classifier file is missing"),
    ],
)
async def test_a_missing_or_altered_model_or_classifier_leaves_the_server_on_the_lexicon_alone(
    settings: Settings,
    clock: FakeClock,
    fake_twilio: FakeTwilio,
    data_dir: Path,
    port: int,
    tmp_path: Path,
    captured_log: CapturedLog,
    tamper: str,
    said: str,
) -> None:
    """Without the pinned model or weights the server starts, is ready, says "lexicon only", and still triages."""
    files = packaged()
    if tamper == "hash":
        files = dataclasses.replace(files, model_sha256="0" * 64)
    elif tamper == "missing":
        files = dataclasses.replace(files, model=tmp_path / "gone.onnx")
    elif tamper == "weights hash":
        files = dataclasses.replace(files, classifier_sha256="0" * 64)
    else:
        files = dataclasses.replace(files, classifier=tmp_path / "gone.json")
    running = await start(settings, clock, fake_twilio, data_dir, port, files)
    try:
        assert running.helpline.meaning is None
        client = await running.console()
        response = await client.get("/readyz")
        body = await response.json()
        assert response.status == 200 and body["status"] == "ok" and body["meaning_layer"] == "off"
        assert body["meaning_layer_detail"].startswith(f"lexicon only: {said}")
        assert str(tmp_path) not in body["meaning_layer_detail"]
        [line] = [json.loads(x) for x in captured_log.lines if "risk.meaning_layer" in x]
        assert line["state"] == "off" and line["level"] == "warning"
        await running.text(OTHER, "i've taken all my pills")
        volunteer = await running.console("amira")
        [row] = await volunteer.queue()
        assert row["priority"] == 3
    finally:
        await running.close()


async def test_a_reading_the_risk_words_already_give_is_not_written_again(meaning: Harness) -> None:
    """A message whose risk words already say "missing child" keeps no reading and sends no event for it."""
    await meaning.text(CONTACT, "my daughter has run away and I don't know where she is")
    assert await read_meaning(meaning) == 1
    assert meaning.rows("SELECT meaning FROM messages WHERE direction = 'in'") == [(None,)]
    assert meaning.helpline.meaning is not None and meaning.helpline.meaning.raised_total == 0
