"""The error tree.

Every error the server raises on purpose is a ``HelplineError``::

    HelplineError
    ├── ConfigError              settings that cannot be used; the message names the key
    ├── MasterKeyError           the master key file is missing, malformed or would be overwritten
    ├── CryptoError
    │   └── DecryptionError      a ciphertext failed authentication (tampered, moved, or wrong key)
    ├── StoreError               the database could not complete a transaction
    │   └── StoreUnavailable     the database is unreachable, restarting or too slow (503; try again)
    ├── ProviderError            a channel provider (Twilio, an SMTP relay) refused or failed a send
    │   ├── TransientProviderError   try again later (5xx, 429, connection refused)
    │   ├── UnconfirmedSendError     the provider may or may not have accepted it (read timeout)
    │   └── PermanentProviderError   will never succeed (e.g. 21610, the number opted out)
    └── PublicError              the user did something we must refuse; carries a safe message
        ├── InvalidInput         400
        ├── NotSignedIn          401
        ├── Forbidden            403
        ├── NotFound             404
        ├── Conflict             409
        ├── Locked               423
        └── TooManyRequests      429

Only ``PublicError`` messages are shown to users, so only they may be written for users. No error message
anywhere may contain a phone number, email or IP address, user agent, provider message id or message text:
log fields carry opaque ids instead.
"""

from __future__ import annotations


class HelplineError(Exception):
    """Base of every error the server raises on purpose."""


class ConfigError(HelplineError):
    """A setting is unknown, missing or has a bad value."""


class MasterKeyError(HelplineError):
    """The master key file is missing, malformed, or would be overwritten."""


class CryptoError(HelplineError):
    """A cryptographic operation failed."""


class DecryptionError(CryptoError):
    """A ciphertext did not authenticate: it was altered, moved to another row, or the key is wrong."""


class StoreError(HelplineError):
    """The database could not complete a transaction."""


class StoreUnavailable(StoreError):
    """The database cannot be reached just now (lost connection, restart, timeout): a request answers 503."""


class ProviderError(HelplineError):
    """A provider refused or failed a send. ``code`` is the provider's error code, never its message text."""

    def __init__(self, code: str, *, status: int | None = None) -> None:
        super().__init__(f"provider error {code}")
        self.code = code
        self.status = status


class TransientProviderError(ProviderError):
    """The provider failed in a way that a later retry may fix."""


class UnconfirmedSendError(ProviderError):
    """The request reached the provider but no answer came back: it may have been accepted."""


class PermanentProviderError(ProviderError):
    """The provider will never accept this send."""


class PublicError(HelplineError):
    """An error whose message is written for the user and is safe to show."""

    status = 400

    def __init__(self, public_message: str, **details: object) -> None:
        super().__init__(public_message)
        self.public_message = public_message
        self.details = details


class InvalidInput(PublicError):
    """The request is malformed or a value is out of range."""

    status = 400


class NotSignedIn(PublicError):
    """The request needs a signed-in session."""

    status = 401


class Forbidden(PublicError):
    """The signed-in user may not do this."""

    status = 403


class NotFound(PublicError):
    """There is no such thing, or the user may not know that there is."""

    status = 404


class Conflict(PublicError):
    """The thing changed under the user: claimed by someone else, already closed."""

    status = 409


class Locked(PublicError):
    """The account is locked until an admin unlocks it."""

    status = 423


class TooManyRequests(PublicError):
    """The caller must slow down."""

    status = 429
