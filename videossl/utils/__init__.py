"""Utilities: distributed helpers, checkpoint I/O, logging, meters."""
