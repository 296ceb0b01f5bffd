"""Collect inventories of data stores from cloud provider APIs."""
