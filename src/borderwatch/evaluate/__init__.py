"""Evaluate: the engine that holds the tables, the shared views, and rules run over them."""
