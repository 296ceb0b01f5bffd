"""Rules: metadata plus SQL over the canonical views. One module per rule family."""
