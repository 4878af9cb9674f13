"""Domain rules: pure functions of their arguments, no I/O and no clock."""
