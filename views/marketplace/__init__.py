"""The marketplace's machine endpoint: orders sent as JSON."""
