"""The lexicon's means, acts and imminence; sentences as the limit of a match; known names; contrast pairs."""

from __future__ import annotations

import pytest

from helpline.core.risk import Band, RiskScanner
from helpline.settings import load


@pytest.fixture(scope="module")
def scanner() -> RiskScanner:
    guard = load(environ={}).safeguarding
    return RiskScanner.from_toml(guard.lexicon_file.read_text(encoding="utf-8"), known_names=guard.known_names)


def categories(scanner: RiskScanner, text: str) -> set[str]:
    return {s.category for s in scanner.scan(text).signals}


@pytest.mark.parametrize(
    "text",
    [
        "swallowed bleach",
        "drank a bottle of vodka and took pills, feeling sleepy",
        "i took some already. about 10. im scared",
        "i took 800 mg of ibuprofen",
        "took 12 paracetamol an hour ago",
        "I've taken the whole packet of my mum's sleeping tablets",
        "there's a rope round my neck",
        "Tonight is the night. Just wanted someone to know",
        "i'm saying goodbye to people today, sorry",
        "by the time you read this I'll be gone",
    ],
)
def test_means_acts_and_imminence_are_the_top_band(scanner: RiskScanner, text: str) -> None:
    """What a person has taken or done, with an amount, a poison, alcohol, an effect or a time, is immediate danger."""
    assessment = scanner.scan(text)
    assert assessment.band == Band.IMMEDIATE_DANGER
    assert {"suicide", "immediate_danger"} <= {s.category for s in assessment.signals}


@pytest.mark.parametrize(
    "text",
    [
        "help me pls im scared he's coming back",
        "my daughter's just rung me screaming and the line went dead, she's 15",
    ],
)
def test_someone_in_danger_from_another_is_the_top_band(scanner: RiskScanner, text: str) -> None:
    """A contact afraid of someone coming back, or a parent hearing screams, is immediate danger."""
    assert scanner.scan(text).band == Band.IMMEDIATE_DANGER


def test_a_match_never_crosses_a_sentence_boundary(scanner: RiskScanner) -> None:
    """ "He lost his phone. Police found it." is two sentences, and "phone police" is no call for help."""
    assert scanner.scan("He lost his phone. Police found it.").signals == ()
    assert scanner.scan("He lost his phone police found it").band == Band.IMMEDIATE_DANGER  # one sentence


def test_context_still_reaches_across_sentences(scanner: RiskScanner) -> None:
    """A time in one sentence still makes suicidal talk in another immediate: only single matches stop at a break."""
    assert scanner.scan("I want to kill myself. Tonight.").band == Band.IMMEDIATE_DANGER


def test_known_names_are_not_risk_words(scanner: RiskScanner) -> None:
    """The charity's and other helplines' names and numbers raise nothing, and do not hide a real signal."""
    assert scanner.scan("is this the missing people chat?").signals == ()
    assert scanner.scan("can I call 116 000 from abroad").signals == ()
    assert categories(scanner, "my son is missing. I called Missing People") == {"missing_child"}


def test_known_names_come_from_the_setting() -> None:
    """Without the setting, "missing people" is read as words again."""
    text = load(environ={}).safeguarding.lexicon_file.read_text(encoding="utf-8")
    assert categories(RiskScanner.from_toml(text), "is this the missing people chat?") == {"missing_child"}


@pytest.mark.parametrize(
    "text",
    [
        "i took two paracetamol for my headache",
        "I took my medication this morning like the doctor said",
        "can I take ibuprofen and paracetamol together?",
        "I took some photos at the beach today",
    ],
)
def test_medicine_taken_as_meant_is_no_signal(scanner: RiskScanner, text: str) -> None:
    """Everyday medicine and "took some" without a medicine raise nothing."""
    assert scanner.scan(text).signals == ()


# Contrast pairs: the same words, one a signal and one not. Embeddings place both members of a pair close
# together; the rules tell them apart, and the meaning layer defers to the rules (helpline/semantic).
CONTRAST_PAIRS = [
    ("I want to die", "I don't want to die"),
    ("I'm going to kill myself", "I'm not going to kill myself"),
    ("my friend said she wants to die", "my friend said she wanted to die years ago"),
    ("I want to hurt myself", "I used to hurt myself but I'm ok now"),
    ("I tried to kill myself last night", "I tried to kill myself when I was 14, I'm doing well now"),
]


@pytest.mark.parametrize(("signal", "quiet"), CONTRAST_PAIRS)
def test_negation_and_the_long_past_stay_in_the_rules(scanner: RiskScanner, signal: str, quiet: str) -> None:
    """Of each contrast pair, the present wish is a signal; the negated or long-past one is not."""
    assert scanner.scan(signal).band >= Band.SIGNIFICANT_HARM
    assert scanner.scan(quiet).signals == ()
