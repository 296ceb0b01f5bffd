"""Readers of access-log formats into the canonical event schema."""
