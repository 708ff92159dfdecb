"""The audit log: what may be recorded, and the hash chain that makes rewriting it detectable."""
