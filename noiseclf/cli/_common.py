"""What the commands share: error handling, messages, option types."""

from __future__ import annotations

import functools
import os
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
    say(f"noiseclf: warning: {one_line(message)}")


def write_out(text: str) -> None:
    """Data on stdout, always UTF-8 whatever the terminal's locale says."""
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write(text)
    else:
        out.flush()
        buffer.write(text.encode("utf-8", errors="replace"))
        buffer.flush()


def fail(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    say(f"noiseclf: {one_line(message)}")
    return typer.Exit(code)


def one_line(message: str) -> str:
    """Messages are one line: a control character from a file name or a file can't break that."""
    return "".join(ch if ch.isprintable() else " " for ch in message)


def _pass_through() -> tuple:
    """Exceptions the command-line framework turns into exit codes itself.

    typer bundles its own copy of click in some versions and uses the real one
    in others; the real one's exceptions can only be raised once it is
    imported, so it is not imported here just to name them (start-up time).
    """
    classes = {
        typer.Exit, typer.Abort, SystemExit,
        next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
    }
    click = sys.modules.get("click")
    if click is not None:
        classes |= {click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort}
    return tuple(classes)


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
        except MemoryError:
            raise fail("out of memory; clean fewer or smaller files at a time", EXIT_INPUT) from None
        except Exception as exc:  # a bug: still one line, unless asked for the details
            if isinstance(exc, _pass_through()):
                raise  # usage errors (exit 2) and deliberate exits
            if os.environ.get("NOISECLF_DEBUG"):
                raise
            raise fail(
                f"internal error ({type(exc).__name__}: {str(exc)[:200]}); rerun with NOISECLF_DEBUG=1 "
                "for the traceback and report it", EXIT_INPUT,
            ) from None

    return wrapper


def check_output_file(path: Path | None) -> None:
    """Refuse an output path that cannot be written before any work is done."""
    from ..errors import OutputError

    if path is None:
        return
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name inside it")
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"{path}: folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{path}: folder {parent} is not writable; pick another place")


def load(model_path: Path | None):
    from ..modelfile import load_model

    return load_model(model_path)
