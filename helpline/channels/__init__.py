"""Channel adapters: each normalises and verifies what its provider sends, and sends replies back."""
