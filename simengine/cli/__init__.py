"""The ``simengine`` command line: a thin layer that parses, calls the API and prints.

Each command group lives in its own module and registers itself on :data:`app`. Errors that
simengine raises on purpose (:class:`~simengine.exceptions.SimengineError`) are printed without a
traceback and end the process with the error's exit code (2 for bad input).
"""

from __future__ import annotations

import sys

import typer

from simengine.cli.common import err_console

__all__ = ["app", "main"]

app = typer.Typer(
    name="simengine",
    help="Macro scenario simulation: Russell 2000 and Nasdaq-100 return distributions under "
    "Fed, tariff and growth scenarios.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from simengine.cli import run

    run.register(app)
    for name in ("data", "calibrate", "batch", "report", "weigh", "backtest"):
        try:
            module = __import__(f"simengine.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError as err:
            if err.name != f"simengine.cli.{name}":
                raise
            continue
        if hasattr(module, "register"):
            module.register(app)
        elif name == "data":
            app.add_typer(module.data_app, name="data")


_register()


def main() -> None:
    """Entry point of the ``simengine`` console script."""
    import warnings

    from simengine.exceptions import SimengineError, SimengineWarning

    default_show = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, SimengineWarning):
            err_console.print(f"[bold yellow]warning:[/] {message}", highlight=False)
        else:
            default_show(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        app(standalone_mode=False)
    except SimengineError as err:
        err_console.print(
            f"[bold red]error:[/] {err}", markup=True, highlight=False, soft_wrap=True
        )
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
