"""Training and evaluation of the one multi-task adapter."""
