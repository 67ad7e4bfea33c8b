"""Connections: URL resolution and masking, the embedded server, engines."""
