"""Uploads over HTTP: receiving a camera's segment safely, and the reference uploader that sends them."""
