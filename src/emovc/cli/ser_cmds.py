"""``emovc ser train`` and ``emovc ser predict``: speech emotion recognition."""

from __future__ import annotations

from pathlib import Path

import typer

from emovc.cli.data_cmds import CORPUS_HELP
from emovc.errors import EmovcError

ser_app = typer.Typer(help="Speech emotion recognition: train a recogniser, classify files.",
                      no_args_is_help=True)


@ser_app.command("train")
def train(
    corpus_dir: Path = typer.Argument(
        ..., help="Emotional speech corpus (e.g. RAVDESS), or the manifest.csv of an `emovc "
                  "augment` output (its converted clips train, never validate)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder (config, metrics, model)."),
    val_speakers: str = typer.Option("17,18,19,20", "--val-speakers",
                                     help="Comma-separated held-out speakers ('' = none)."),
    method: str = typer.Option("ensemble", help="linear | cnn | ensemble."),
    feature_set: str = typer.Option("compare", help="Functionals: egemaps | compare."),
    corpus: str = typer.Option("auto", "--corpus", "-c", help=CORPUS_HELP),
    world_augment: bool = typer.Option(True, "--world-augment/--no-world-augment",
                                       help="Also train on WORLD-resynthesised copies."),
    epochs: int | None = typer.Option(None, "--epochs", min=1,
                                  help="CNN epochs (--method cnn or ensemble)."),
    devices: int | None = typer.Option(
        None, "--devices", min=1,
        help="Number of devices to train the CNN on (GPUs; without one, that many processes "
             "share the CPU cores). Each step's batch is shared between them: the batch size "
             "stays the run's (emovc train's --devices multiplies it). Default 1."),
    accelerator: str | None = typer.Option(
        None, "--accelerator",
        help="Where the CNN trains: auto (default: a TPU, else Apple's GPU (mps), else a CUDA "
             "GPU torch sees, else the CPU), cpu (on every machine; the shipped model's "
             "bit-exact recipe), cuda, gpu or mps. The fit says where it trains."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Feature cache folder."),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Feature processes."),
    seed: int = typer.Option(0, help="Random seed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    force: bool = typer.Option(False, "--force", help="Start afresh in a run folder that "
                                                      "holds a model or an interrupted run."),
) -> None:
    """Train an emotion recogniser.

    Writes OUT/config.yaml, OUT/metrics.json and OUT/model.pt at the end. A CNN fit
    (--method cnn or ensemble) saves OUT/checkpoints/cnn.ckpt after every epoch and logs to
    OUT/tb (TensorBoard): the same command resumes an interrupted run from it, with the result
    of an uninterrupted one (--force starts afresh)."""
    from emovc.training.ser import build_config
    from emovc.training.ser import train as run_training

    for given, option in ((epochs, "--epochs"), (devices, "--devices"),
                          (accelerator, "--accelerator")):
        if given is not None and method == "linear":  # it would be ignored without a word
            raise EmovcError(f"{option} sets the CNN's {option[2:]}; --method linear trains no "
                             f"CNN: leave {option} out, or use --method cnn or ensemble")
    overrides = {
        "val_speakers": [s.strip() for s in val_speakers.split(",") if s.strip()],
        "method": method, "feature_set": feature_set, "corpus": corpus,
        "world_augment": world_augment, "workers": workers, "seed": seed,
    }
    cnn = {"epochs": epochs, "devices": devices, "accelerator": accelerator}
    overrides["cnn"] = {k: v for k, v in cnn.items() if v is not None}
    if cache_dir is not None:
        overrides["cache_dir"] = str(cache_dir)
    path = run_training(build_config(str(corpus_dir), str(out), overrides), progress=not quiet,
                        force=force, say_device=True)  # where the CNN trains: also --quiet
    typer.echo(f"wrote {path}")
    import json

    metrics = json.loads((path.parent / "metrics.json").read_text(encoding="utf-8"))
    metrics = metrics.get("validation", {})
    for key, rep in metrics.items():
        typer.echo(f"{key:>20}: UA {rep['unweighted_accuracy']:.3f}  "
                   f"WA {rep['weighted_accuracy']:.3f}  macro-F1 {rep['macro_f1']:.3f}")
    if "original/utterance" in metrics:  # the single-clip use; confusion matrices: metrics.json
        recall = metrics["original/utterance"]["recall"]
        typer.echo("recall per emotion (original/utterance): "
                   + "  ".join(f"{lab} {r:.2f}" for lab, r in recall.items()))


@ser_app.command("predict")
def predict(
    inputs: list[Path] = typer.Argument(..., help="Audio files and/or folders."),
    top_k: int = typer.Option(3, "--top-k", "-k", min=1, help="Emotions shown per file."),
    model: str = typer.Option("default", "--model", "-m",
                              help="Bundled model name or path to a model.pt."),
    csv_out: Path | None = typer.Option(
        None, "--csv", help="Also write every file's prediction, the probability of each "
                            "emotion (p_<emotion> columns), why it was skipped (error) and "
                            "its warnings, e.g. that its labels are a guess (note), to this "
                            "CSV file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --csv file."),
    windows: bool = typer.Option(
        False, "--windows", help="For files over 20 s (classified in 20 s windows, their "
                                 "probabilities averaged): also print each window's emotions."),
) -> None:
    """Print the most probable emotions of each file.

    Files that cannot be classified are reported after the rest (exit code 2, as
    ``emovc convert`` on a folder)."""
    from emovc.fileio import check_output_file
    from emovc.pipelines.recognition import EmotionRecognizer, predict_paths, write_predictions_csv

    if csv_out is not None:
        check_output_file(csv_out, (".csv",), force, "predictions")
    rec = EmotionRecognizer.from_pretrained(model)
    n_bad = n_all = 0
    single = len(inputs) == 1 and not Path(inputs[0]).is_dir()
    results = []
    for result in predict_paths(rec, inputs, k=top_k):
        n_all += 1
        results.append(result)
        if result.error:
            if single:  # one file asked for: its error, in one line
                raise EmovcError(result.error)
            n_bad += 1
            typer.echo(f"skipped {result.path}: {result.error}", err=True)
            continue
        shown = "  ".join(f"{lab} {p:.2f}" for lab, p in result.top)
        typer.echo(f"{result.path}\t{shown}")
        if windows:
            for line in window_lines(result.windows, top_k):
                typer.echo(line)
    if csv_out is not None and n_bad < n_all:
        typer.echo(f"wrote {write_predictions_csv(csv_out, results, rec.labels)}")
    if n_bad == n_all:
        raise EmovcError(f"none of the {n_all} file(s) could be classified")
    if n_bad:
        raise EmovcError(f"{n_bad} of {n_all} file(s) could not be classified (each listed "
                         "above with the reason)")


def window_lines(windows, k: int) -> list[str]:
    """``  m:ss-m:ss<TAB>emotion p ...`` (the ``k`` best) for each
    :class:`~emovc.pipelines.ser_windows.WindowLabel`, or ``skipped: reason``."""
    from emovc.pipelines.recognition import top_k

    def clock(t: float) -> str:
        return f"{int(t // 60)}:{int(t % 60):02d}"

    lines = []
    for w in windows:
        shown = ("  ".join(f"{lab} {p:.2f}" for lab, p in top_k(w.probs, k)) if w.probs
                 else f"skipped: {w.error}")
        lines.append(f"  {clock(w.start_s)}-{clock(w.end_s)}\t{shown}")
    return lines


def register(app: typer.Typer) -> None:
    """Add the ``ser`` command group to ``emovc``."""
    app.add_typer(ser_app, name="ser")
