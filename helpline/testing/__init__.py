"""Fakes of third-party services, for the tests and the benchmark; the server itself never imports them."""
