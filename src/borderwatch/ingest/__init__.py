"""Ingest: expand the inputs, drive the readers, digest accesses, count coverage and
repeats, keep the incremental state."""
