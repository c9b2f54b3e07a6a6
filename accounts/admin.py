"""Users and groups are administered through Django's own admin pages."""
