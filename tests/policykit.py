"""The smallest policy the end-to-end tests share: US user data, stored in the US, never
reached from a country of concern."""

from __future__ import annotations


def us_data_policy(name: str) -> str:
    """The policy's YAML text, under `name` (which names the test in every output)."""
    return f"""\
borderwatch: policy/v1
name: {name}
version: "1"
data_classes:
  us_user_data:
    storage:
      approved: [{{country: US}}]
    access:
      prohibited_countries: [dsp_countries_of_concern]
"""
