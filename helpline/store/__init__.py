"""Storage: numbered SQL migrations and the backends that implement ``core.ports.Store``."""
