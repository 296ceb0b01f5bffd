"""Engines run rule SQL over the canonical tables. DuckDB is the embedded default."""
