"""Helpline: a secure, anonymous messaging helpline server."""
