"""The meaning layer: a message read, sentence by sentence and as a whole, by a classifier over sentence embeddings.

The lexicon (``risk``) is the first stage: quick, explainable, blind to what it has no words for. The
meaning layer is the second: an embedding model turns a sentence into a vector, and a classifier per
category, trained on labelled messages (``scripts/train-risk``), gives the probability that it speaks of that
category, so "swallowed everything in the cabinet" is found whatever its words. Both sit behind the
``MeaningModel`` port: any model that gives, for each text, its similarity with every prototype sentence and
its probability for every category, and says the threshold at which each category counts.

How a message is read (``MeaningReader.read``):

1. it is split into sentences (at ``.``, ``!``, ``?`` before a space, and line breaks), as the lexicon
   splits it; at most ``max_sentences`` of them, the longest message's tail is left to the lexicon;
2. a sentence in which the lexicon found risk words and set them aside — negated ("I don't want to die"),
   long past ("I wanted to die years ago"), an idiom or a known name (``RiskScanner.dismissed``) — is not
   read at all: negation and reported speech stay with the rules, which can see them, while embeddings
   place "I want to die" and "I don't want to die" close together;
3. each other sentence is read, and, when there are several, so are they all together (the message
   without what was set aside): some messages say it only across sentences;
4. per category the most probable of those texts counts when it reaches the category's threshold (chosen
   by cross-validation when the classifier was trained); it becomes a ``MeaningMatch`` carrying the
   probability as its strength and, for the volunteer, the category's prototype nearest that text: "similar
   in meaning to: …".

A match can only raise a conversation's priority (``risk_raising``), never lower it, and, like a lexicon
signal, is a prompt for a volunteer, never a verdict.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from helpline.core.risk import CATEGORIES, Band, RiskScanner
from helpline.errors import ConfigError

# As the lexicon's sentence break (``risk_text``), on the original text.
_SENTENCE_BREAK = re.compile(r"(?:[.!?\u2026][\"')\]]*\s+|[\n\r]+)")
# A sentence needs this many letters to be worth a model's time ("ok", "?" are not).
_MIN_LETTERS = 4
# Sentences read per message; a longer message's tail is left to the lexicon.
MAX_SENTENCES = 8


@dataclass(frozen=True)
class TextScores:
    """One text as the model read it: its similarity (-1 to 1) with each prototype, its probability per category."""

    similarities: tuple[float, ...]
    probabilities: Mapping[str, float]


class MeaningModel(Protocol):
    """The port: an embedding model with a classifier per category."""

    @property
    def thresholds(self) -> Mapping[str, float]:
        """The probability at which each category counts."""
        ...

    def score(self, texts: Sequence[str], prototypes: Sequence[str]) -> list[TextScores]:
        """For each text, its similarity with each prototype (in the given order) and its probabilities."""
        ...


@dataclass(frozen=True)
class CategoryPrototypes:
    """One category's prototypes (what the volunteer is shown a message resembles) and the band it raises to."""

    category: str
    band: Band
    prototypes: tuple[str, ...]


@dataclass(frozen=True)
class MeaningMatch:
    """A message read as a category: the nearest prototype, the classifier's probability (0 to 1), the band."""

    category: str
    prototype: str
    strength: float
    band: Band


class Prototypes:
    """The curated prototype sentences of every category, read from TOML (``config/risk-prototypes.toml``)."""

    _KEYS = frozenset({"band", "prototypes"})

    def __init__(self, categories: Sequence[CategoryPrototypes]) -> None:
        self.categories = tuple(categories)
        # One flat list for the model, and where each category's prototypes lie in it.
        self.sentences: tuple[str, ...] = tuple(s for c in self.categories for s in c.prototypes)

    @classmethod
    def from_toml(cls, text: str, origin: str = "risk prototypes") -> Prototypes:
        """Read and check the prototypes; a ``ConfigError`` names what is wrong."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{origin} is not valid TOML: {exc}") from None
        categories = []
        for name, raw in data.items():
            categories.append(cls._category(name, raw, origin))
        return cls(categories)

    @classmethod
    def _category(cls, name: str, raw: Any, origin: str) -> CategoryPrototypes:
        def fail(problem: str) -> NoReturn:
            raise ConfigError(f"{origin}: [{name}] {problem}")

        if name not in CATEGORIES:
            fail(f"is no category; categories are {', '.join(CATEGORIES)}")
        if not isinstance(raw, dict):
            fail("must be a table")
        unknown = set(raw) - cls._KEYS
        if unknown:
            fail(f"has the unknown key '{sorted(unknown)[0]}'")
        band = raw.get("band")
        if not isinstance(band, int) or isinstance(band, bool) or not 1 <= band <= 3:
            fail("band must be 1 (concern), 2 (significant harm) or 3 (immediate danger)")
        value = raw.get("prototypes", [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            fail("prototypes must be a list of sentences")
        if not value:
            fail("needs at least one prototype")
        return CategoryPrototypes(name, Band(band), tuple(v.strip() for v in value))


def sentences_of(text: str, max_sentences: int) -> list[str]:
    """The message's sentences worth reading, in order, at most ``max_sentences``."""
    found = []
    for part in _SENTENCE_BREAK.split(text):
        sentence = part.strip()
        if sum(c.isalpha() for c in sentence) >= _MIN_LETTERS:
            found.append(sentence)
            if len(found) == max_sentences:
                break
    return found


def texts_to_read(text: str, scanner: RiskScanner, max_sentences: int = MAX_SENTENCES) -> list[str]:
    """The sentences the lexicon did not set aside, and, when there are several, all of them as one text."""
    kept = [s for s in sentences_of(text, max_sentences) if not scanner.dismissed(s)]
    return [*kept, " ".join(kept)] if len(kept) > 1 else kept


class MeaningReader:
    """Reads a message against the prototypes through the model; see the module docstring."""

    def __init__(
        self,
        model: MeaningModel,
        prototypes: Prototypes,
        scanner: RiskScanner,
        *,
        max_sentences: int = MAX_SENTENCES,
    ) -> None:
        self._model = model
        self._prototypes = prototypes
        self._scanner = scanner
        self._max_sentences = max_sentences

    def read(self, text: str) -> tuple[MeaningMatch, ...]:
        """The categories the message is close in meaning to, strongest sentence each, in category order."""
        return self.match(self.select(text))

    def novel(self, text: str, matches: Sequence[MeaningMatch]) -> tuple[MeaningMatch, ...]:
        """The matches that tell the volunteer something the lexicon's risk words in ``text`` do not already.

        A match counts when the lexicon flagged its category at a lower band, or not at all: a message
        whose risk words already say "missing child, significant harm" gains nothing from being also
        similar in meaning to "my child is missing", and is not written again for it.
        """
        if not matches:
            return ()
        seen: dict[str, Band] = {}
        for signal in self._scanner.scan(text).signals:
            seen[signal.category] = max(signal.weight, seen.get(signal.category, Band.NONE))
        return tuple(m for m in matches if m.band > seen.get(m.category, Band.NONE))

    def select(self, text: str) -> list[str]:
        """Steps 1 to 3: the texts worth reading (quick: the lexicon, no model)."""
        return texts_to_read(text, self._scanner, self._max_sentences)

    def match(self, texts: Sequence[str]) -> tuple[MeaningMatch, ...]:
        """Step 4, through the model (slow: run it off the event loop)."""
        if not texts:
            return ()
        scores = self._model.score(texts, self._prototypes.sentences)
        thresholds = self._model.thresholds
        matches = []
        begin = 0
        for category in self._prototypes.categories:
            end = begin + len(category.prototypes)
            threshold = thresholds.get(category.category)
            strongest = max(scores, key=lambda s: s.probabilities.get(category.category, 0.0))
            probability = strongest.probabilities.get(category.category, 0.0)
            if threshold is not None and probability >= threshold:
                nearest = max(range(begin, end), key=strongest.similarities.__getitem__)
                prototype = self._prototypes.sentences[nearest]
                matches.append(MeaningMatch(category.category, prototype, round(probability, 3), category.band))
            begin = end
        return tuple(matches)
