"""Plain line mode: one sentence per event, commands typed as lines."""
