"""Retention: which whole days go when a camera is too old, too big, or its disk too full; holds; deletion."""
