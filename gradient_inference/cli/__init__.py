"""What every command shares: the parser and flag types, output, errors and the exit-code contract."""
