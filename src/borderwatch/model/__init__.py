"""Pure data: schemas and frozen values shared by every stage. No I/O here."""
