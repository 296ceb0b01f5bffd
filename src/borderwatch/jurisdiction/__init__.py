"""Where was the caller: IP classification and country, identities, covered persons."""
