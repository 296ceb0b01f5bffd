"""Inventories of data stores and the registry that places cloud locations in countries."""
