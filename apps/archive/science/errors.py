"""Typed errors of the archive science package; all subclass :class:`ArchiveDataError`."""

from __future__ import annotations


class ArchiveDataError(ValueError):
    """Base class: the bytes, names or tables given are not what the archive code expects."""


class FitsFormatError(ArchiveDataError):
    """The bytes are not a well-formed FITS file (bad header, wrong sizes, unreadable table)."""


class FitsTruncated(FitsFormatError):
    """The file is shorter (or longer) than its headers say: an incomplete download."""


class ChecksumMismatch(ArchiveDataError):
    """A CHECKSUM or DATASUM keyword does not match the bytes: the file was corrupted."""


class MissingColumns(ArchiveDataError):
    """A light-curve table lacks a column the ingest needs."""


class UnknownMission(ArchiveDataError):
    """The headers or the name do not identify Kepler, K2 or TESS."""


class BadIdentifier(ArchiveDataError):
    """A KIC/EPIC/TIC number, quarter or sector is out of range or not a number."""


class TableFormatError(ArchiveDataError):
    """A catalogue table or a download script lacks the columns or lines expected."""
