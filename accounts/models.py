"""accounts uses Django's User and Group; roles are groups (see roles.py)."""
