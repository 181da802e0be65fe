"""wattbench power client: measured runs joined to LoadGen windows; the `wattbench` CLI."""
