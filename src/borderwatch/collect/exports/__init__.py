"""Provider exports to stores: Cloud Asset Inventory, ARM/Resource Graph, OCI, Terraform."""
