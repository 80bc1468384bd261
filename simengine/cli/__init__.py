"""The ``simengine`` command line: a thin layer that parses, calls the API and prints.

Each command group lives in its own module and registers itself on :data:`app`. Errors that
simengine raises on purpose (:class:`~simengine.exceptions.SimengineError`) are printed without a
traceback and end the process with the error's exit code (2 for bad input).
"""

from __future__ import annotations

import atexit
import errno
import gc
import sys

import typer

from simengine.cli.common import err_console, exit_reader_gone, reflow_help

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
    for name in ("data", "calibrate", "batch", "report", "weigh", "backtest", "scenarios"):
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
reflow_help(app)


_DEBUG_FLAG = "--debug"


def _show_version(value: bool) -> None:
    if value:
        from simengine.version import __version__

        typer.echo(f"simengine {__version__}")
        raise typer.Exit()


def _debug(
    ctx_debug: bool = typer.Option(False, _DEBUG_FLAG, help="Show tracebacks."),
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True,
        callback=_show_version,
    ),
) -> None:  # fmt: skip
    """Macro scenario simulation (see ``simengine COMMAND --help``)."""


app.callback()(_debug)

_ENVIRONMENT = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EMFILE: "too many open files",
    errno.ENOMEM: "out of memory",
    errno.ETIMEDOUT: "the connection timed out",
    errno.ECONNREFUSED: "the connection was refused",
}


def describe_os_error(err: OSError) -> str:
    """One line naming an environment problem: its cause, the file and what to do."""
    cause = _ENVIRONMENT.get(err.errno or 0) or (err.strerror or type(err).__name__)
    where = f" ({err.filename})" if err.filename else ""
    return (
        f"{cause}{where}: {err.strerror or err}. Free some space, fix the permissions or "
        "choose another output folder, then run the command again"
        if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)
        else f"{cause}{where}: {err}"
    )


def _click_exceptions() -> tuple[type[Exception], ...]:
    """Usage errors of click and of the click that typer vendors (typer >= 0.16)."""
    import click

    kinds: list[type[Exception]] = [click.ClickException]
    try:
        from typer._click.exceptions import ClickException
    except ImportError:
        return tuple(kinds)
    return (*kinds, ClickException)


def _fail(message: str, code: int) -> None:
    err_console.print(
        f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True
    )
    sys.exit(code)


def _show_warnings_as_lines() -> None:
    """simengine's warnings as one ``warning: ...`` line each (no source line echoed)."""
    import warnings

    from simengine.exceptions import SimengineWarning

    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, SimengineWarning):
            err_console.print(
                f"[bold yellow]warning:[/] {message}", markup=True, highlight=False, soft_wrap=True
            )
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def _freeze_at_exit() -> None:
    """Freeze every object at interpreter exit (once per process), so shutdown skips a full
    garbage collection.

    Python's shutdown collects over every object the command created (the engine, pandas,
    xarray, numba's registries): 0.1-0.3 s of CPU after a ``simengine batch``, on a process
    that is about to end. :func:`gc.freeze` moves them to a generation that collections skip;
    objects are still released by reference counting as modules are torn down (files closed,
    buffers flushed); only unreachable cycles are left to the operating system, without their
    finalizers (which Python does not promise at exit either; simengine's files are closed by
    ``with`` blocks). Registered at exit, not called in :func:`main`, so that a process calling
    :func:`main` several times (the tests) keeps collecting between calls.
    """
    global _FREEZE_REGISTERED
    if not _FREEZE_REGISTERED:
        atexit.register(gc.freeze)
        _FREEZE_REGISTERED = True


_FREEZE_REGISTERED = False


def main() -> None:
    """Entry point of the ``simengine`` console script.

    Exit status: 0 success; 2 bad input (a file, a value, an option); 1 an environment problem
    (disk full, permissions, cluster unreachable, out of memory) or a failed batch scenario;
    130 interrupted; 141 the reader of the output went away (``simengine ... | head``), silently,
    as for any Unix tool killed by SIGPIPE. Unexpected errors print one line and a hint; ``--debug`` shows the
    traceback.
    """
    from simengine.exceptions import SimengineError

    debug = _DEBUG_FLAG in sys.argv[1:]
    _freeze_at_exit()
    _show_warnings_as_lines()
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:  # typer.Exit(n) inside a command returns n here
            sys.exit(code)
    except SimengineError as err:
        _fail(str(err), err.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except BrokenPipeError:  # a write outside rich's console (rich's own: cli.common._Console)
        exit_reader_gone()
    except Exception as exc:
        if isinstance(exc, _click_exceptions()):
            exc.show()
            sys.exit(exc.exit_code)
        if debug:
            raise
        if isinstance(exc, OSError):
            _fail(describe_os_error(exc), 1)
        if isinstance(exc, MemoryError):
            _fail("out of memory; use fewer paths (--paths) or a smaller --chunk-size", 1)
        _fail(
            f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            " (this is a bug in simengine: please report it with the command you ran; run it "
            f"again as `simengine {_DEBUG_FLAG} ...` for the traceback)",
            1,
        )
