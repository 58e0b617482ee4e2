"""Django-free core of the archive app: FITS reading and verification, quality masks, file names.

Everything here takes bytes or arrays and returns arrays or plain dataclasses; nothing imports
Django, so the same code runs in the site, in scripts and in benchmarks.
"""
