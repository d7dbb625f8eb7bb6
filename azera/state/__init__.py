"""Reflex states: thin wrappers that call services off the event loop."""
