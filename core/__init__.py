"""SonoClick's headless core, in subpackages by role, each using only those below it (no Qt anywhere):
errors < annotation < io < labels < runtime < interactive, project < exchange, training, cine < learning < serving <
commands/cli/selftest.
Each subpackage's docstring says what lives there and what it may import."""
