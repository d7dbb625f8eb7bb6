"""Records layer: SQLModel tables, engine and migrations."""
