"""The ``emovc`` command line: a thin layer over library functions.

Each topic lives in its own module exposing ``register(app)``; this module assembles them
and turns :class:`~emovc.errors.EmovcError` into a one-line message and exit code 2.
"""

from __future__ import annotations

import importlib
import inspect
import os
import signal
import sys
import threading
import warnings
from typing import Any

import typer

from emovc.errors import EmovcError

# topic modules, each with register(app: typer.Typer) -> None
COMMAND_MODULES = [
    "emovc.cli.audio_cmds",
    "emovc.cli.data_cmds",
    "emovc.cli.augment_cmds",
    "emovc.cli.convert_cmds",
    "emovc.cli.ser_cmds",
    "emovc.cli.eval_cmds",
    "emovc.cli.clone_cmds",
    "emovc.cli.clone_train_cmds",
    "emovc.cli.app_cmds",
    "emovc.cli.models_cmds",
]

app = typer.Typer(
    name="emovc",
    help="Expressive voice conversion: emotion conversion, recognition, voice cloning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from emovc import __version__

        typer.echo(f"emovc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Expressive voice conversion: emotion conversion, recognition, voice cloning."""


def _build() -> typer.Typer:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    return app


_PATH_ERRORS = (FileExistsError, FileNotFoundError, IsADirectoryError, NotADirectoryError,
                PermissionError)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (0 ok, 2 user error, 130 interrupted)."""
    warnings.filterwarnings("ignore", message=".*pkg_resources.*")
    # worker processes (evaluation, augmentation) start fresh interpreters: pass it on
    # (once: every in-process call, e.g. in tests, used to append another copy)
    quiet = "ignore:pkg_resources is deprecated:UserWarning"
    inherited = os.environ.get("PYTHONWARNINGS", "")
    if quiet not in inherited.split(","):
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, (inherited, quiet)))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    command = _tidy_help(typer.main.get_command(_build()))
    _plain_warnings()
    previous = _terminate_as_interrupt()
    try:
        code = command.main(args=argv, standalone_mode=False, prog_name="emovc")
    except EmovcError as exc:
        print(f"emovc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # raised outside typer's own handling (or by SIGTERM)
        code = 130
    except _PATH_ERRORS as exc:  # a path of the wrong kind (a folder for a file, ...)
        return _os_error(exc, 2)
    except OSError as exc:  # a full disk, a file-size limit, a read-only file system, ...
        return _os_error(exc, 1)
    except Exception as exc:
        return _click_exit(exc, command, sys.argv[1:] if argv is None else argv)
    finally:
        _restore_terminate(previous)
    # typer turns Ctrl-C into an exit code of 130, which standalone_mode=False returns
    if isinstance(code, int) and not isinstance(code, bool) and code:
        if code == 130:
            print("emovc: interrupted", file=sys.stderr)
        return code
    return 0


def _plain_warnings() -> None:
    """Show emovc's own warnings (categories defined in emovc, e.g. the files a corpus scan
    left out) as one ``emovc: warning:`` line, not with the source file and line that raised
    them, and each such line once (a damaged file is read by several stages); others
    unchanged. Checked by module, so no command imports the catalogs for it."""
    shown = warnings.showwarning
    if getattr(shown, "_emovc", False):
        shown.said.clear()  # another command in this process (tests): each line once again
        return
    said: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):
        if getattr(category, "__module__", "").startswith("emovc."):
            if str(message) not in said:
                said.add(str(message))
                print(f"emovc: warning: {message}", file=file or sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    show._emovc = True
    show.said = said
    warnings.showwarning = show


def _os_error(exc: OSError, code: int) -> int:
    where = f": {exc.filename}" if exc.filename else ""
    print(f"emovc: error: {(exc.strerror or str(exc)).lower()}{where}", file=sys.stderr)
    return code


def _terminate_as_interrupt():
    """Make SIGTERM (``kill``, a job scheduler) raise KeyboardInterrupt, so that temporary
    outputs are removed as for Ctrl-C; returns the previous handler (``None`` off the main
    thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _restore_terminate(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _tidy_help(command: Any) -> Any:
    """Help as a reader expects it, for ``command`` and its subcommands; returns ``command``.

    Typer's rich help keeps the docstring's line breaks inside a paragraph, so a paragraph
    wrapped at 95 columns in the source printed ragged at the terminal's width: each one is
    made a single line for the terminal to wrap. And typer prints ``<bool>`` beside every
    flag (``--force <bool>`` reads as if it took a value): flags get no type."""
    if command.help:
        command.help = "\n\n".join(" ".join(part.split())
                                    for part in inspect.cleandoc(command.help).split("\n\n"))
    for param in command.params:
        if getattr(param, "is_flag", False) and not getattr(param, "count", False):
            param.metavar = ""
    help_option = command.get_help_option(typer.Context(command))
    if help_option is not None:
        help_option.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)
    return command


def _command_path(group: Any, argv: list[str]) -> str:
    """``emovc ser predict`` for ``argv`` = ``["ser", "predict", ...]``: the command the
    arguments name, for errors that click raises without a context (an option given without
    its value is found by the option parser, before a context exists)."""
    path = ["emovc"]
    for arg in argv:
        sub = getattr(group, "commands", {}).get(arg)
        if sub is None:
            break
        path.append(arg)
        group = sub
    return " ".join(path)


def _click_exit(exc: Exception, cli: Any = None,
                argv: list[str] | None = None) -> int:
    """Errors of (typer's vendored) click — a missing or unknown option, a value out of range —
    as one ``emovc: error:`` line like every other bad input (exit code 2), pointing to the
    command's help; no traceback."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # `emovc`, `emovc ser`: the help was shown
        return 0
    if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click.ClickException
        msg = " ".join(exc.format_message().split()).rstrip(".")
        ctx = getattr(exc, "ctx", None)
        where = (ctx.command_path if ctx is not None
                 else _command_path(cli, argv or []) if cli is not None else None)
        hint = f" (see '{where} --help')" if where else ""
        print(f"emovc: error: {msg[:1].lower()}{msg[1:]}{hint}", file=sys.stderr)
        return int(exc.exit_code)
    if type(exc).__name__ == "Abort":
        print("emovc: aborted", file=sys.stderr)
        return 1
    raise exc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
