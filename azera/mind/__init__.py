"""Inner life: mental state, mood inference, the tick loop (dreams and journal to come)."""
