"""Findings as evidence: exceptions, stable ids, and the files an auditor keeps."""
