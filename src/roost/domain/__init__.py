"""Plain data and pure functions; imports nothing else of Roost and does no I/O."""
