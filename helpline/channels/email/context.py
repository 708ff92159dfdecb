"""The reply context: what our next email needs so that the contact's mail client threads it.

It is the contact's last subject, their last Message-ID (for ``In-Reply-To``) and the chain of earlier
ones (for ``References``). That is contact data — a Message-ID often names the sender's host or domain —
so the core keeps it sealed in the conversation's vault beside the address, as opaque text this module
writes and reads. Anything unreadable reads as an empty context: a reply then simply starts a new thread.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

MAX_REFERENCES = 10
MAX_SUBJECT_CHARS = 200
_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,250}>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+")
_SPACES = re.compile(r"\s+")
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw|odp|vs)\s*(\[\d+\])?\s*:", re.IGNORECASE)


def message_ids(raw: str) -> list[str]:
    """Every ``<id>`` in a header value, in order (ids hold printable ASCII only; anything else is skipped)."""
    return _MESSAGE_ID.findall(raw)


def clean_line(text: str, max_chars: int = MAX_SUBJECT_CHARS) -> str:
    """One line of header text: controls (CR and LF above all) and direction overrides removed, spaces collapsed."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()[:max_chars].strip()


def is_reply_subject(subject: str) -> bool:
    """Whether the subject says it answers an earlier message ("Re:", "AW:", "SV:" …)."""
    return bool(_REPLY_PREFIX.match(subject))


@dataclass(frozen=True)
class ReplyContext:
    """The contact's last subject and Message-ID, and the chain of Message-IDs before it."""

    subject: str = field(default="", repr=False)
    message_id: str = field(default="", repr=False)
    references: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def after(cls, subject: str, message_id: str, references: list[str]) -> ReplyContext:
        """The context for answering a message with this subject, id and ``References`` chain."""
        chain = [ref for ref in references if ref != message_id][-MAX_REFERENCES:]
        return cls(clean_line(subject), message_id if _MESSAGE_ID.fullmatch(message_id) else "", tuple(chain))

    def dumps(self) -> str:
        return json.dumps(
            {"v": 1, "subject": self.subject, "message_id": self.message_id, "references": list(self.references)},
            ensure_ascii=False,
        )

    @classmethod
    def loads(cls, text: str) -> ReplyContext:
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            return cls()
        if not isinstance(data, dict) or data.get("v") != 1:
            return cls()
        subject = data.get("subject")
        message_id = data.get("message_id")
        references = data.get("references")
        if not isinstance(subject, str) or not isinstance(message_id, str) or not isinstance(references, list):
            return cls()
        return cls.after(
            subject, message_id, [r for r in references if isinstance(r, str) and _MESSAGE_ID.fullmatch(r)]
        )

    def reply_subject(self, default: str) -> str:
        """The subject of our reply: "Re: " and theirs, or ``default`` when they gave none."""
        if not self.subject:
            return clean_line(default)
        if is_reply_subject(self.subject):
            return self.subject
        return clean_line(f"Re: {self.subject}")

    def reference_chain(self) -> list[str]:
        """What our reply's ``References`` lists: the earlier chain and then the message we answer."""
        chain = [*self.references, self.message_id] if self.message_id else list(self.references)
        return chain[-MAX_REFERENCES:]
