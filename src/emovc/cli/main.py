"""The ``emovc`` command line: a thin layer over library functions.

Each topic lives in its own module exposing ``register(app)``; this module assembles them
and turns :class:`~emovc.errors.EmovcError` into a one-line message and exit code 2.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings

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
    "emovc.cli.app_cmds",
]

app = typer.Typer(
    name="emovc",
    help="Expressive voice conversion: emotion conversion, recognition, voice cloning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
    quiet = "ignore:pkg_resources is deprecated:UserWarning"
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, (os.environ.get("PYTHONWARNINGS"),
                                                          quiet)))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cli = _build()
    try:
        cli(args=argv, standalone_mode=False)
    except EmovcError as exc:
        print(f"emovc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("emovc: interrupted", file=sys.stderr)
        return 130
    except _PATH_ERRORS as exc:  # a path of the wrong kind (a folder for a file, ...)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"emovc: error: {(exc.strerror or str(exc)).lower()}{where}", file=sys.stderr)
        return 2
    except Exception as exc:
        return _click_exit(exc)
    return 0


def _click_exit(exc: Exception) -> int:
    """Usage errors from (typer's vendored) click: print the usage message, no traceback."""
    if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click.ClickException
        exc.show()
        return int(exc.exit_code)
    if type(exc).__name__ == "Abort":
        print("emovc: aborted", file=sys.stderr)
        return 1
    raise exc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
