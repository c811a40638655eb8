"""Where a day's files live: the local disk, or an object store (an archive) they were moved to."""
