"""One family of errors for everything noiseclf refuses to do.

The library raises these and never prints or exits; the CLI turns them into a
single ``noiseclf: message`` line on stderr and the exit code of the class.
Every message names the file (and line, where there is one) and the fix.
"""

from __future__ import annotations


class NoiseclfError(Exception):
    """Base class of every expected noiseclf error."""

    exit_code = 1


class InputError(NoiseclfError):
    """A scrape (or other input file) cannot be read as text."""

    exit_code = 1


class LabelsError(NoiseclfError):
    """A labels file is malformed or does not match its scrape."""

    exit_code = 1


class ModelError(NoiseclfError):
    """A model file is missing, corrupt, unsafe or of an unknown version."""

    exit_code = 3


class OutputError(NoiseclfError):
    """An output file or folder cannot be written."""

    exit_code = 1


class UsageError(NoiseclfError, ValueError):
    """An argument the caller passed is not one noiseclf takes (e.g. an unknown label to keep)."""

    exit_code = 2
