"""Compaction: a settled day's segments into one verified video, and the daemon that schedules it."""
