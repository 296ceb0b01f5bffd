"""Enrich: where each caller was (IP data, provider ranges, anonymisers), who the
person was, and whether they are a covered person."""
