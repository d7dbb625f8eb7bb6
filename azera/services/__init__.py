"""Plain-Python services: testable without Reflex, called by the UI, API and CLI."""
