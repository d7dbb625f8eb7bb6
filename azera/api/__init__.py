"""REST routes (FastAPI) mounted next to the Reflex app."""
