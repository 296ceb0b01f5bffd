"""Reporters: turn one ScanResult into the bytes of one output file each."""
