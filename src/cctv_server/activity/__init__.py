"""Activity: the per-second measure of change, its index, events, and search."""
