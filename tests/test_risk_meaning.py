"""The meaning layer: prototypes read and checked, the packaged model pinned by hash, paraphrases found, rules kept."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpline.core.risk import CATEGORIES, Band, RiskScanner
from helpline.core.risk_meaning import MeaningModel, MeaningReader, Prototypes, sentences_of
from helpline.errors import ConfigError
from helpline.semantic.classifier import CLASSIFIER_FILE, CLASSIFIER_SHA256, read_classifier, sha256_of
from helpline.semantic.model import MODEL_SHA256, ModelFiles, Unavailable, installed_files, load_model
from helpline.settings import load
from tests.test_risk_means import CONTRAST_PAIRS


@pytest.fixture(scope="module")
def model() -> MeaningModel:
    loaded = load_model(installed_files())
    assert not isinstance(loaded, Unavailable), loaded
    return loaded


@pytest.fixture(scope="module")
def reader(model: MeaningModel) -> MeaningReader:
    guard = load(environ={}).safeguarding
    scanner = RiskScanner.from_toml(guard.lexicon_file.read_text(encoding="utf-8"), known_names=guard.known_names)
    prototypes = Prototypes.from_toml(guard.prototypes_file.read_text(encoding="utf-8"))
    return MeaningReader(model, prototypes, scanner)


def test_the_packaged_model_scores_a_paraphrase_above_an_unrelated_sentence(model: MeaningModel) -> None:
    """Cosine similarities from the ONNX model: a paraphrase is near, small talk is far, and itself is 1."""
    [scores] = model.score(
        ["I want to end my life"], ["I want to kill myself", "what time is the bus", "I want to end my life"]
    )
    row = scores.similarities
    assert row[0] > 0.6
    assert row[1] < 0.3
    assert row[2] == pytest.approx(1.0, abs=1e-3)


def test_the_classifier_gives_a_probability_per_category(model: MeaningModel) -> None:
    """A plain statement of intent is probable suicide and improbable trafficking; small talk is neither."""
    risky, idle = model.score(["I want to end my life", "what time is the bus"], ["x"])
    assert set(risky.probabilities) == set(CATEGORIES) == set(model.thresholds)
    assert risky.probabilities["suicide"] >= model.thresholds["suicide"]
    assert risky.probabilities["trafficking"] < model.thresholds["trafficking"]
    assert all(idle.probabilities[c] < model.thresholds[c] for c in CATEGORIES)


def test_the_shipped_classifier_is_pinned_and_trained_for_the_shipped_model() -> None:
    """The weights file has its pinned SHA-256, names the model's hash, and has a threshold per category."""
    weights = read_classifier(CLASSIFIER_FILE, CLASSIFIER_SHA256, MODEL_SHA256)
    assert [c.category for c in weights.categories] == list(CATEGORIES)
    assert all(0 < c.threshold < 1 and len(c.weights) == 384 for c in weights.categories)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(model_sha256="0" * 64), "the classifier was trained for another model"),
        (lambda d: d["categories"]["suicide"]["weights"].pop(), "the classifier file is malformed"),
        (lambda d: d.update(format=99), "the classifier file has an unknown format"),
    ],
)
def test_a_classifier_that_does_not_fit_the_model_is_not_run(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], reason: str
) -> None:
    """Weights for another model, of the wrong shape or format, are refused even when pinned, and the model too."""
    files = installed_files()
    assert isinstance(files, ModelFiles)
    data = json.loads(CLASSIFIER_FILE.read_text(encoding="utf-8"))
    change(data)
    altered = tmp_path / "weights.json"
    altered.write_text(json.dumps(data), encoding="utf-8")
    pinned = dataclasses.replace(files, classifier=altered, classifier_sha256=sha256_of(altered))
    assert load_model(pinned) == Unavailable(reason)


def test_a_classifier_whose_hash_differs_is_not_run(tmp_path: Path) -> None:
    """A weights file changed by one byte is refused, and the reason does not say where it is."""
    files = installed_files()
    assert isinstance(files, ModelFiles)
    altered = tmp_path / "weights.json"
    altered.write_text(CLASSIFIER_FILE.read_text(encoding="utf-8").replace('"seed"', ' "seed"', 1), encoding="utf-8")
    refused = load_model(dataclasses.replace(files, classifier=altered))
    assert refused == Unavailable("the classifier file's SHA-256 does not match the pinned one")


def test_a_model_file_whose_hash_differs_is_not_run(tmp_path: Path) -> None:
    """A model file changed by one byte is refused, and the reason says which file, not where it is."""
    files = installed_files()
    assert isinstance(files, ModelFiles)
    altered = tmp_path / "model.onnx"
    data = bytearray(files.model.read_bytes())
    data[-1] ^= 1
    altered.write_bytes(bytes(data))
    refused = load_model(dataclasses.replace(files, model=altered))
    assert isinstance(refused, Unavailable)
    assert "model file's SHA-256" in refused.reason and str(tmp_path) not in refused.reason


def test_a_missing_tokenizer_is_not_run(tmp_path: Path) -> None:
    """Without the tokenizer file the model is not loaded."""
    files = installed_files()
    assert isinstance(files, ModelFiles)
    refused = load_model(dataclasses.replace(files, tokenizer=tmp_path / "absent.json"))
    assert refused == Unavailable("the tokenizer file is missing")


@pytest.mark.parametrize(
    "text",
    [
        "everyone would be better off if i just stopped existing",
        "i keep dragging a razor across my thighs",
    ],
)
def test_a_paraphrase_the_lexicon_misses_is_found(reader: MeaningReader, text: str) -> None:
    """Words the lexicon has no rule for, close in meaning to a prototype, are read as that category."""
    matches = reader.read(text)
    assert matches and all(0 < m.strength <= 1 and m.prototype for m in matches)


@pytest.mark.parametrize(("signal", "quiet"), CONTRAST_PAIRS)
def test_the_meaning_layer_does_not_undo_negation_or_the_past(reader: MeaningReader, signal: str, quiet: str) -> None:
    """Of each contrast pair, the negated or long-past sentence raises nothing through the meaning layer either."""
    assert reader.read(quiet) == ()


@pytest.mark.parametrize(
    "text",
    ["is this the missing people chat?", "I'm on the train home", "my mum will kill me if I'm late", "hi"],
)
def test_everyday_messages_are_not_read_as_risk(reader: MeaningReader, text: str) -> None:
    """Known names, journeys, idioms and greetings stay quiet."""
    assert reader.read(text) == ()


def test_a_match_keeps_the_strongest_sentence_and_its_band(reader: MeaningReader) -> None:
    """A message of several sentences is read sentence by sentence; a match carries its category's band."""
    matches = reader.read("Hi. Thanks for being there. I've swallowed all my tablets.")
    [danger] = [m for m in matches if m.category == "immediate_danger"]
    assert danger.band == Band.IMMEDIATE_DANGER and "tablets" in danger.prototype


def test_the_sentences_are_read_alone_and_together_without_what_the_lexicon_set_aside(reader: MeaningReader) -> None:
    """Each kept sentence, then all of them as one text; a negated sentence is in neither."""
    assert reader.select("I don't want to die. I'm so tired. Everything hurts.") == [
        "I'm so tired",
        "Everything hurts.",
        "I'm so tired Everything hurts.",
    ]
    assert reader.select("I'm so tired") == ["I'm so tired"]


def test_sentences_are_split_at_breaks_and_short_ones_dropped() -> None:
    """Full stops before a space, "!", "?" and line breaks end a sentence; "ok" alone is not worth reading."""
    assert sentences_of("ok. I lost it!\nwhat now? 3.5 more", 8) == ["I lost it", "what now", "3.5 more"]
    assert sentences_of("one two. three four. five six", 2) == ["one two", "three four"]


@pytest.mark.parametrize(
    ("toml", "complaint"),
    [
        ("[sadness]\nband = 2\nprototypes = ['x']", "is no category"),
        ("[suicide]\nband = 4\nprototypes = ['x']", "band must be"),
        ("[suicide]\nband = 2\nprototypes = [1]", "must be a list of sentences"),
        ("[suicide]\nband = 2\nprototypes = []", "at least one prototype"),
        ("[suicide]\nband = 2\nthreshold = 0.5\nprototypes = ['x']", "unknown key 'threshold'"),
        ("[suicide", "not valid TOML"),
    ],
)
def test_broken_prototypes_stop_with_a_clear_error(toml: str, complaint: str) -> None:
    """A mistake in the prototypes file names the category and what is wrong."""
    with pytest.raises(ConfigError, match=complaint):
        Prototypes.from_toml(toml)


def test_the_shipped_prototypes_cover_every_category() -> None:
    """Every category has prototypes, and immediate danger raises to its band."""
    prototypes = Prototypes.from_toml(load(environ={}).safeguarding.prototypes_file.read_text(encoding="utf-8"))
    by_name = {c.category: c for c in prototypes.categories}
    assert set(by_name) == {
        "suicide",
        "self_harm",
        "immediate_danger",
        "abuse",
        "exploitation",
        "trafficking",
        "missing_child",
    }
    assert by_name["immediate_danger"].band == Band.IMMEDIATE_DANGER
