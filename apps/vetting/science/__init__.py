"""Django-free statistics of vetting labels (agreement between people, catalogues and models)."""
