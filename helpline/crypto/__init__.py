"""Cryptography: the master keyring, AES-GCM envelopes, per-row data keys, pseudonyms and passwords."""
