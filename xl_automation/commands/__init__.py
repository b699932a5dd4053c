"""Each command's work and the text it prints: the command line (cli) and the demo call these."""
