"""The ``noiseclf`` command line: one module per command, each a thin layer.

Commands parse their arguments, call plain library functions and do the I/O;
expected errors (:class:`noiseclf.NoiseclfError`) become one line
``noiseclf: message`` on stderr and the error's exit code, never a traceback.

Exit codes: 0 success, 1 bad input (scrape, labels, output), 2 usage error,
3 bad model.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="noiseclf",
    help="Keep the article, drop the noise: label each line of a scraped page as "
    "article, nav, related-story, ad or footer, and keep the article.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

from . import clean, evaluate, inspect, train  # noqa: E402,F401  (registers the commands)
from . import check, label  # noqa: E402,F401  (noiseclf/label_ui.py, noiseclf/drift.py)


def main() -> None:
    import signal

    def _terminate(signum, frame):  # `kill`: clean up like Ctrl-C (temporary files removed)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    app()
