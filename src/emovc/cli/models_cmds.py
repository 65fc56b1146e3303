"""``emovc models`` — list the bundled models."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the ``models`` command to ``app``."""
    app.command("models")(models)


def models(
    kind: str = typer.Option(None, "--kind", help="Only this kind: emotion-converter, "
                             "emotion-recognizer, or a full kind such as "
                             "emotion-converter/stargan."),
) -> None:
    """List the bundled models: name (* = the default), kind, what it does, model card.

    Pass a name to --model (convert) or to from_pretrained in Python; names are
    case-sensitive."""
    from emovc.pretrained.listing import available_models, models_table

    typer.echo(models_table(available_models(kind)))
