"""The footage of a root: the catalog of its files, keeping it current, and where each piece sits in time."""
