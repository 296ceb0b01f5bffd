"""borderwatch: prove where protected data lives and who reached it from where."""

__version__ = "0.1.0"
