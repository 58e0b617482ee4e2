"""A staticfiles finder that serves only the BokehJS bundles the pages load, from the bokeh package.

BokehJS comes from the installed ``bokeh`` package (never a CDN, never copied into the repository).
Exposing its whole ``js`` folder would also publish ``compiler.js`` and the ``lib/`` sources; the
compiler holds a ``sourceMap.url`` reference that ``CompressedManifestStaticFilesStorage`` cannot
resolve, so ``collectstatic`` failed in production. This finder lists only ``settings.BOKEHJS_FILES``
(the minified bundles ``templates/base.html`` loads) under the ``bokeh/`` prefix.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders, utils
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

PREFIX = "bokeh"


def bokehjs_dir() -> Path:
    """The ``js`` folder of the installed bokeh package (bundles match the Python package's version)."""
    from bokeh.util.paths import bokehjs_path

    return Path(bokehjs_path()) / "js"


class BokehJSFinder(finders.BaseFinder):
    """Finds ``bokeh/<name>`` for each name in ``settings.BOKEHJS_FILES``, and nothing else."""

    def __init__(self, app_names=None, *args, **kwargs):  # noqa: ANN001 - Django's finder signature
        self.location = str(bokehjs_dir())
        self.files = tuple(settings.BOKEHJS_FILES)
        self.storage = FileSystemStorage(location=self.location)
        self.storage.prefix = PREFIX  # collectstatic and whitenoise put the files under bokeh/

    def check(self, **kwargs):
        return [
            Error(f"BokehJS file {name!r} (settings.BOKEHJS_FILES) is missing from {self.location}",
                  id="gaia.E001")
            for name in self.files
            if not os.path.isfile(os.path.join(self.location, name))
        ]

    def find(self, path, find_all=False, **kwargs):
        if kwargs:  # RemovedInDjango61Warning: the legacy ``all`` argument
            find_all = self._check_deprecated_find_param(find_all=find_all, **kwargs)
        if self.location not in finders.searched_locations:
            finders.searched_locations.append(self.location)
        head, _, name = path.replace("\\", "/").partition("/")
        match = None
        if head == PREFIX and name in self.files:
            candidate = os.path.join(self.location, name)
            if os.path.isfile(candidate):
                match = candidate
        if find_all:
            return [match] if match else []
        return match or []  # like Django's finders: [] means "not here", None would be a hit

    def list(self, ignore_patterns):
        for name in self.files:
            if ignore_patterns and utils.matches_patterns(name, ignore_patterns):
                continue
            if os.path.isfile(os.path.join(self.location, name)):
                yield name, self.storage
