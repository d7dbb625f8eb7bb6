"""The reply pipeline: above the mind (mood, energy) and memory, below the UI, API and CLI."""
