"""Files: text the user hands a command, and files written for the user (no clobbering, atomic)."""
