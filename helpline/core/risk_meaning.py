"""The meaning layer: a message compared, sentence by sentence, with prototype sentences per category.

The lexicon (``risk``) finds the words a helpline knows to listen for; the meaning layer finds what is said
in other words: "swallowed everything in the cabinet" is close in meaning to "I have taken an overdose"
whatever its words. An embedding model (behind the ``MeaningModel`` port: any model that scores a text
against sentences) gives each sentence's similarity to every prototype, from -1 to 1.

How a message is read (``MeaningReader.read``):

1. it is split into sentences (at ``.``, ``!``, ``?`` before a space, and line breaks), as the lexicon
   splits it; at most ``max_sentences`` of them, the longest message's tail is left to the lexicon;
2. a sentence in which the lexicon found risk words and set them aside — negated ("I don't want to die"),
   long past ("I wanted to die years ago"), an idiom or a known name (``RiskScanner.dismissed``) — is not
   read at all: negation and reported speech stay with the rules, which can see them, while embeddings
   place "I want to die" and "I don't want to die" close together;
3. each other sentence counts for a category when its best prototype's similarity reaches the category's
   threshold **and** beats its best negative anchor's. Anchors are the look-alikes that are not risk
   ("I would never hurt myself", "my mum will kill me if I'm late"): a sentence nearer one of them than to
   every prototype is read as the anchor, which catches the negations and idioms the lexicon has no rule for;
4. per category the strongest sentence is kept: a ``MeaningMatch`` with the prototype it resembled and
   the similarity, which the volunteer sees as "similar in meaning to: …" with its strength.

A match can only raise a conversation's priority (``risk_raising``), never lower it, and, like a lexicon
signal, is a prompt for a volunteer, never a verdict.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from helpline.core.risk import CATEGORIES, Band, RiskScanner
from helpline.errors import ConfigError

# As the lexicon's sentence break (``risk_text``), on the original text.
_SENTENCE_BREAK = re.compile(r"(?:[.!?\u2026][\"')\]]*\s+|[\n\r]+)")
# A sentence needs this many letters to be worth a model's time ("ok", "?" are not).
_MIN_LETTERS = 4


class MeaningModel(Protocol):
    """The port: an embedding model that scores texts against prototype sentences."""

    def similarities(self, texts: Sequence[str], prototypes: Sequence[str]) -> list[list[float]]:
        """For each text, its cosine similarity (-1 to 1) with each prototype, in the given order."""
        ...


@dataclass(frozen=True)
class CategoryPrototypes:
    """One category's prototypes and negative anchors, the similarity that counts, and the band it raises to."""

    category: str
    band: Band
    threshold: float
    prototypes: tuple[str, ...]
    anchors: tuple[str, ...] = ()


@dataclass(frozen=True)
class MeaningMatch:
    """A message close in meaning to a prototype: which one, how close (0 to 1), and the band it raises to."""

    category: str
    prototype: str
    strength: float
    band: Band


class Prototypes:
    """The curated prototype sentences of every category, read from TOML (``config/risk-prototypes.toml``)."""

    _KEYS = frozenset({"band", "threshold", "prototypes", "anchors"})

    def __init__(self, categories: Sequence[CategoryPrototypes]) -> None:
        self.categories = tuple(categories)
        # One flat list for the model, and where each category's prototypes and anchors lie in it.
        self.sentences: tuple[str, ...] = tuple(s for c in self.categories for s in (*c.prototypes, *c.anchors))

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
        threshold = raw.get("threshold")
        if not isinstance(threshold, int | float) or isinstance(threshold, bool) or not 0 < threshold < 1:
            fail("threshold must be a similarity between 0 and 1")
        sentences = []
        for key in ("prototypes", "anchors"):
            value = raw.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                fail(f"{key} must be a list of sentences")
            sentences.append(tuple(v.strip() for v in value))
        if not sentences[0]:
            fail("needs at least one prototype")
        return CategoryPrototypes(name, Band(band), float(threshold), sentences[0], sentences[1])


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


class MeaningReader:
    """Reads a message against the prototypes through the model; see the module docstring."""

    def __init__(
        self, model: MeaningModel, prototypes: Prototypes, scanner: RiskScanner, *, max_sentences: int = 8
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
        """Steps 1 and 2: the sentences worth reading (quick: the lexicon, no model)."""
        return [s for s in sentences_of(text, self._max_sentences) if not self._scanner.dismissed(s)]

    def match(self, sentences: Sequence[str]) -> tuple[MeaningMatch, ...]:
        """Steps 3 and 4, through the model (slow: run it off the event loop)."""
        if not sentences:
            return ()
        rows = self._model.similarities(sentences, self._prototypes.sentences)
        matches = []
        for category, begin in zip(self._prototypes.categories, self._offsets(), strict=True):
            best: MeaningMatch | None = None
            middle = begin + len(category.prototypes)
            end = middle + len(category.anchors)
            for row in rows:
                index = max(range(begin, middle), key=row.__getitem__)
                strength = row[index]
                anchored = max(row[middle:end], default=-1.0)
                counts = strength >= category.threshold and strength > anchored
                if counts and (best is None or strength > best.strength):
                    prototype = self._prototypes.sentences[index]
                    best = MeaningMatch(category.category, prototype, round(strength, 3), category.band)
            if best is not None:
                matches.append(best)
        return tuple(matches)

    def _offsets(self) -> list[int]:
        """Where each category's prototypes begin in ``Prototypes.sentences``."""
        offsets = []
        position = 0
        for category in self._prototypes.categories:
            offsets.append(position)
            position += len(category.prototypes) + len(category.anchors)
        return offsets
