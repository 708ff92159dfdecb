"""The HTTP surface: the console's pages and JSON API, health, and the channels' webhooks."""
