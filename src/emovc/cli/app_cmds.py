"""``emovc app`` — start the local web toolbox."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Attach the ``app`` command to ``app``."""
    app.command("app")(run_app)


def run_app(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (default: this machine only); "
                             "the listening tests listen there too."),
    port: int = typer.Option(7860, help="TCP port (0 = any free port)."),
    max_upload_mb: float = typer.Option(20.0, help="Largest accepted upload, in MB."),
    max_duration_s: float = typer.Option(60.0, help="Longest accepted clip, in seconds."),
    work_dir: Path = typer.Option(
        None, "--work-dir", help="Folder for uploads, outputs, run folders, reports and "
                                 "listening-test ratings, kept when the app stops (default: a "
                                 "temporary folder, deleted then except the ratings)."),
) -> None:
    """Web UI: convert emotion, recognise emotion, clone a voice, evaluate runs."""
    from emovc.app.limits import UploadLimits
    from emovc.app.server import launch

    limits = UploadLimits(max_upload_mb=max_upload_mb, max_duration_s=max_duration_s)
    running = launch(host=host, port=port, limits=limits, work_dir=work_dir)
    typer.echo(f"emovc app running at {running.url} (Ctrl-C to stop)")
    fate = ("temporary: deleted when the app stops, except listening-test ratings"
            if running.backend.work.temporary else "kept when the app stops")
    typer.echo(f"work dir: {running.work_dir} ({fate})")
    running.block()
