"""The queue boundary: compaction's chunks as tasks on a Dramatiq broker, and the worker that encodes them."""
