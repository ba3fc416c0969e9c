"""`noiseclf --version`, and help that shows flags as flags."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import noiseclf
from noiseclf.cli import app

runner = CliRunner()


@pytest.mark.parametrize("option", ["--version", "-V"])
def test_version_prints_the_package_version(option):
    result = runner.invoke(app, [option])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"noiseclf {noiseclf.__version__}\n"
    assert re.fullmatch(r"noiseclf \d+\.\d+\.\d+\n", result.stdout)


def test_version_from_the_real_command():
    done = subprocess.run([sys.executable, "-c", "from noiseclf.cli import main; main()", "--version"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == f"noiseclf {noiseclf.__version__}\n", done.stderr


def _commands():
    import typer.main

    group = typer.main.get_command(app)
    return sorted(group.commands)


def test_every_registered_command_is_listed():
    assert {"clean", "train", "evaluate", "inspect", "check", "label"} <= set(_commands())


@pytest.mark.parametrize("args", [[]] + [[name] for name in _commands()], ids=lambda a: " ".join(a) or "noiseclf")
def test_help_shows_flags_without_a_type(args):
    result = runner.invoke(app, [*args, "--help"], terminal_width=200)
    assert result.exit_code == 0 and "Usage" in result.stdout
    assert "<bool>" not in result.stdout
    assert "--help" in result.stdout


def test_a_flag_pair_still_shows_both_spellings():
    out = runner.invoke(app, ["train", "--help"], terminal_width=200).stdout
    assert "--cv" in out and "--no-cv" in out and "--from-scratch" in out
    out = runner.invoke(app, ["check", "--help"], terminal_width=200).stdout
    assert "--json" in out
