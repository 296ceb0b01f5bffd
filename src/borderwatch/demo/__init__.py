"""A fictional short-video company with planted problems, for `borderwatch demo`."""
