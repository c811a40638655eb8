"""cctv-server: store, serve and compact CCTV recordings."""

__version__ = "0.1.0"
