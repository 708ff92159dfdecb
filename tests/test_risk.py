"""The risk scanner: normalising, the euphemisms a helpline must hear, negation, spans, bands, the lexicon loader."""

from __future__ import annotations

import pytest

from helpline.core.risk import Band, RiskScanner
from helpline.core.risk_text import Normaliser
from helpline.errors import ConfigError
from helpline.settings import load


@pytest.fixture(scope="module")
def scanner() -> RiskScanner:
    path = load(environ={}).safeguarding.lexicon_file
    return RiskScanner.from_toml(path.read_text(encoding="utf-8"))


def categories(scanner: RiskScanner, text: str) -> set[str]:
    return {s.category for s in scanner.scan(text).signals}


def matched(scanner: RiskScanner, text: str, category: str) -> list[str]:
    return [text[s.start : s.end] for s in scanner.scan(text).signals if s.category == category]


# --- normalising -------------------------------------------------------------------------------------------


def test_normaliser_folds_case_accents_and_compatibility_forms() -> None:
    """Capitals, accents, fullwidth and mathematical letters all become plain lower-case letters."""
    normaliser = Normaliser({})
    assert normaliser.normalise("KÍLL ＭＹＳＥＬＦ 𝗻𝗼𝘄").text == "kil myself now"


def test_normaliser_drops_invisible_characters_and_loose_combining_marks() -> None:
    """Zero-width spaces, soft hyphens and combining marks typed on their own leave no trace."""
    normaliser = Normaliser({})
    assert normaliser.normalise("k\u200bi\u00adl\u200dl my\u0301self").text == "kil myself"


def test_normaliser_squeezes_repeated_letters_but_not_numbers() -> None:
    """Stretched words meet their dictionary spelling; numbers keep their digits."""
    normaliser = Normaliser({})
    assert normaliser.normalise("diiiieee pleeease 1000").text == "die please 1000"
    assert normaliser.normalise("kill").text == normaliser.normalise("kil").text


def test_normaliser_reads_leetspeak_inside_words_only() -> None:
    """Digits and symbols inside a word are letters; a number leading a word ("3am") stays a number."""
    normaliser = Normaliser({})
    assert normaliser.normalise("k1ll mys3lf su1c1de h@te $elf").text == "kil myself suicide hate self"
    assert normaliser.normalise("at 3am i took 20").text == "at 3am i tok 20"


def test_normaliser_maps_lookalike_letters_in_latin_words() -> None:
    """A Cyrillic "і" hidden in "kill" is read as a Latin "i"; a wholly Cyrillic word is left alone."""
    normaliser = Normaliser({})
    assert normaliser.normalise("kіll привет").text == "kil привет"


def test_normaliser_expands_abbreviations_and_contractions() -> None:
    """Text-speak and contractions are read as their words; "he'll" is "he will" but "hell" is not."""
    normaliser = Normaliser({"wanna": "want to", "dont": "do not", "he'll": "he will", "rn": "right now"})
    assert normaliser.normalise("i dont wanna rn").text == "i do not want to right now"
    assert normaliser.normalise("He’ll come").text == "he wil come"
    assert normaliser.normalise("what the hell").text == "what the hel"


def test_normaliser_keeps_each_character_s_original_span() -> None:
    """Every normalised character maps back to the stretch of the original it came from."""
    original = "I  wanna KIIILL myself!!"
    normalised = Normaliser({"wanna": "want to"}).normalise(original)
    start = normalised.text.index("kil")
    begin, end = normalised.original_span(start, start + len("kil"))
    assert original[begin:end] == "KIIILL"
    begin, end = normalised.original_span(normalised.text.index("want to"), normalised.text.index("want to") + 7)
    assert original[begin:end] == "wanna"


def test_normaliser_marks_where_each_clause_begins() -> None:
    """A clause break is recorded at the word after the punctuation, in plain and in folded text alike."""
    for original in ("i am fine, thanks. bye", "i am fïne, thanks. bye"):
        normalised = Normaliser({}).normalise(original)
        assert normalised.clauses == {normalised.text.index("thanks"), normalised.text.index("bye")}


# --- the euphemisms and text-speak a helpline must hear ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "kms",
        "honestly might kms",
        "i want to unalive myself",
        "thinking about how to unalive",
        "i just want to end it all",
        "I don't want to be here anymore",
        "dont wanna be here no more",
        "i want 2 die",
        "sewer slide seems like the only way",
        "thinking about su1c1de",
        "i want to k\u200bi\u200bl\u200bl myself",
        "I want to kíll myself",
    ],
)
def test_suicide_euphemisms_and_text_speak_are_heard(scanner: RiskScanner, text: str) -> None:
    """Each of these is a suicide signal."""
    assert "suicide" in categories(scanner, text)


@pytest.mark.parametrize(
    "text", ["took all my pills", "I've taken all my pills", "i swallowed a whole packet of paracetamol"]
)
def test_taking_all_the_pills_is_immediate_danger(scanner: RiskScanner, text: str) -> None:
    """An overdose taken is band 3, immediate danger, as well as a suicide signal."""
    assessment = scanner.scan(text)
    assert assessment.band == Band.IMMEDIATE_DANGER
    assert {"suicide", "immediate_danger"} <= {s.category for s in assessment.signals}


def test_a_time_makes_suicidal_talk_immediate(scanner: RiskScanner) -> None:
    """ "Tonight" beside suicidal talk is immediate danger; "tonight" on its own is nothing."""
    assert scanner.scan("i'm going to end it all tonight").band == Band.IMMEDIATE_DANGER
    assert scanner.scan("my cousin is coming round tonight").band == Band.NONE


# --- negation and hard negatives ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I'm not going to kill myself, I just need to talk",
        "i would never hurt myself",
        "I'm not suicidal",
        "my dad doesn't hit me",
        "nobody hurts me, I'm just lonely",
        "I'm not suicidal, I just need to talk about work stress",
        "I'd never hurt myself, I just needed to get that off my chest",
        "no one is hurting me, I just can't sleep",
    ],
)
def test_negated_statements_are_not_signals(scanner: RiskScanner, text: str) -> None:
    """A negation cue just before the words cancels them."""
    assert scanner.scan(text).signals == ()


def test_negation_does_not_reach_across_a_clause_or_a_content_word(scanner: RiskScanner) -> None:
    """ "I'm not ok, I want to die" and "I don't know why I want to die" are still signals."""
    assert "suicide" in categories(scanner, "I'm not ok, I want to die")
    assert "suicide" in categories(scanner, "I don't know why I want to die")


@pytest.mark.parametrize(
    "text",
    [
        "this homework is killing me",
        "I'm dying to see the match",
        "my phone died",
        "the killer in that film was obvious",
        "I could murder a pizza",
        "I'm going to end it with my boyfriend",
        "my mum's going to kill me when she sees my report",
        "I want to die my hair blue",
        "she beat me at FIFA again",
        "hit me up later",
        "my cat went missing but came back",
    ],
)
def test_everyday_phrases_are_not_signals(scanner: RiskScanner, text: str) -> None:
    """Hard negatives: ordinary speech that shares words with the lexicon raises nothing."""
    assert scanner.scan(text).signals == ()


# --- what a scan returns ------------------------------------------------------------------------------------


def test_spans_point_at_the_original_text(scanner: RiskScanner) -> None:
    """Each signal's start:end is the matched stretch of the message exactly as it was written."""
    text = "😭😭 honestly I wanna KIIILL MYSELF!!"
    assert matched(scanner, text, "suicide") == ["wanna KIIILL MYSELF"]


def test_each_signal_carries_category_weight_and_reason(scanner: RiskScanner) -> None:
    """A signal says which category it is, how much it weighs, and why, in words for the volunteer."""
    [signal] = scanner.scan("my dad hits me").signals
    assert signal.category == "abuse"
    assert signal.weight == Band.SIGNIFICANT_HARM
    assert signal.reason


def test_band_is_the_highest_signal_weight(scanner: RiskScanner) -> None:
    """A message with a significant-harm signal and an immediate-danger signal is band 3."""
    assessment = scanner.scan("my stepdad hits me and he has a knife")
    assert {s.weight for s in assessment.signals} == {Band.SIGNIFICANT_HARM, Band.IMMEDIATE_DANGER}
    assert assessment.band == Band.IMMEDIATE_DANGER


def test_calm_and_empty_messages_are_band_none(scanner: RiskScanner) -> None:
    """Nothing matched is band 0 with no signals."""
    for text in ("", "   ", "Hello, can someone help?"):
        assessment = scanner.scan(text)
        assert assessment.band == Band.NONE and assessment.signals == ()


def test_overlapping_matches_of_one_category_are_one_signal(scanner: RiskScanner) -> None:
    """ "I want to kill myself" is one suicide signal, not one per rule that matched inside it."""
    assert len([s for s in scanner.scan("I want to kill myself").signals if s.category == "suicide"]) == 1


def test_a_long_message_is_scanned_quickly(scanner: RiskScanner) -> None:
    """A maximal SMS of repeated matches is scanned with every match found, in linear passes."""
    text = ("kill myself " * 200)[:1600]
    assessment = scanner.scan(text)
    assert len(assessment.signals) == text.count("kill myself")


# --- the lexicon loader ---------------------------------------------------------------------------------------


def lexicon(rule: str) -> str:
    return f"[[rules]]\n{rule}\n"


def test_a_small_lexicon_builds_and_matches() -> None:
    """Phrases are normalised like messages, and patterns are matched against normalised text."""
    scanner = RiskScanner.from_toml(
        lexicon('category = "suicide"\nweight = 2\nreason = "R"\nphrases = ["Kill myself"]\npatterns = ["tok al"]')
    )
    assert scanner.scan("kiiill myself").band == Band.SIGNIFICANT_HARM
    assert scanner.scan("took all").band == Band.SIGNIFICANT_HARM


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [
        ('category = "sadness"\nweight = 2\nreason = "R"\nphrases = ["x"]', "category must be one of"),
        ('category = "abuse"\nweight = 4\nreason = "R"\nphrases = ["x"]', "weight must be 1"),
        ('category = "abuse"\nweight = 2\nreason = ""\nphrases = ["x"]', "a reason"),
        ('category = "abuse"\nweight = 2\nreason = "R"', "at least one phrase or pattern"),
        ('category = "abuse"\nweight = 2\nreason = "R"\npatterns = ["(unclosed"]', "not a valid regular"),
        ('category = "abuse"\nweight = 2\nreason = "R"\npatterns = ["Hit"]', "capitals"),
        ('category = "abuse"\nweight = 2\nreason = "R"\npatterns = ["(?P<x>hit)"]', "named groups"),
        ('category = "abuse"\nweight = 2\nreason = "R"\npatterns = ["{nothing}"]', "unknown fragment"),
        ('category = "abuse"\nweight = 2\nreason = "R"\nwith = ["abuse"]\nphrases = ["x"]', "'with'"),
        ('category = "abuse"\nweight = 2\nreason = "R"\nphrases = ["x"]\nsynonyms = []', "unknown key"),
    ],
)
def test_a_broken_lexicon_stops_with_a_clear_error(rule: str, complaint: str) -> None:
    """Each mistake in a lexicon entry is refused with a ConfigError that says what is wrong."""
    with pytest.raises(ConfigError, match=complaint):
        RiskScanner.from_toml(lexicon(rule))


def test_lexicon_that_is_not_toml_is_refused() -> None:
    """A syntax error names the lexicon."""
    with pytest.raises(ConfigError, match="not valid TOML"):
        RiskScanner.from_toml("[[rules]\n", origin="my lexicon")
