"""The chat page's components."""
