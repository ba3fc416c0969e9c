"""The ``noiseclf`` command line: one module per command, each a thin layer.

Commands parse their arguments, call plain library functions and do the I/O;
expected errors (:class:`noiseclf.NoiseclfError`) become one line
``noiseclf: message`` on stderr and the error's exit code, never a traceback.

Exit codes: 0 success, 1 bad input (scrape, labels, output), 2 usage error,
3 bad model.

Start-up: every command module is imported to register its command, so a
module imports at its top only what ``--help`` needs (typer, the standard
library, noiseclf.text/errors); the heavy rest (scikit-learn through
noiseclf.train, scipy.optimize through noiseclf.adapt, textual through
noiseclf.label_ui, datasets through noiseclf.corpus) is imported inside the
command that uses it. ``benchmarks/startup.py`` measures it;
``tests/test_cli_startup.py`` checks it.
"""

from __future__ import annotations

import typer
from typer.core import TyperCommand, TyperGroup


def _plain_flags(params: list) -> list:
    """A flag takes no value, so its help shows no type (typer's rich help would print ``<bool>``)."""
    for param in params:
        if getattr(param, "is_flag", False) and getattr(param, "metavar", None) is None:
            param.metavar = ""
    return params


class _Command(TyperCommand):
    def get_params(self, ctx):
        return _plain_flags(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx):
        return _plain_flags(super().get_params(ctx))


class _Typer(typer.Typer):
    """Every command of the app shows its flags as plain flags (``--json``, ``--cv/--no-cv``)."""

    def command(self, *args, cls=None, **kwargs):
        return super().command(*args, cls=cls or _Command, **kwargs)


app = _Typer(
    name="noiseclf",
    help="Keep the article, drop the noise: label each line of a scraped page as "
    "article, nav, related-story, ad or footer, and keep the article.",
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"noiseclf {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_print_version, is_eager=True, help="Print noiseclf's version and exit."),
) -> None:
    pass


from . import clean, evaluate, inspect, train  # noqa: E402  (registers the commands)
from . import check, label  # noqa: E402  (noiseclf/label_ui.py, noiseclf/drift.py)

COMMAND_MODULES = (clean, evaluate, inspect, train, check, label)  # imported for their @app.command


def main() -> None:
    import signal

    def _terminate(signum, frame):  # `kill`: clean up like Ctrl-C (temporary files removed)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    app()
