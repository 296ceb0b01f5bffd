"""Row-oriented inputs (CSV and YAML lists) shared by the inventory and identity readers."""
