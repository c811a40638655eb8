"""Archiving: compacted days moved to an object store (storage/), crash-safe, and what is due when."""
