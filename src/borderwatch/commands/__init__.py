"""Command groups of the borderwatch command line, each wired into the main CLI."""
