"""Process-level plumbing every stage shares: temporary folders, test stop points,
tuning options."""
