"""What the commands share: error handling, messages, option types."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Callable

import typer

from ..errors import NoiseclfError

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_MODEL = 0, 1, 2, 3


def say(message: str) -> None:
    """A message for the person at the terminal (stderr: stdout carries data only)."""
    typer.echo(message, err=True)


def warn(message: str) -> None:
    say(f"noiseclf: warning: {message}")


def fail(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    say(f"noiseclf: {message}")
    return typer.Exit(code)


def handles_errors(func: Callable) -> Callable:
    """Turn expected errors into one stderr line and an exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except NoiseclfError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted; no output file was left half-written", 130) from None
        except BrokenPipeError:
            # The reader of our stdout went away (e.g. `| head`): stop quietly.
            sys.stderr.close()
            raise typer.Exit(EXIT_OK) from None

    return wrapper


def model_option_help() -> str:
    return "Model file to use (default: the model shipped with noiseclf)."


def load(model_path: Path | None):
    from ..model import load_model

    return load_model(model_path)
