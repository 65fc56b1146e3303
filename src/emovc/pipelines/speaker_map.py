"""Maps of speaker embeddings: their 2-D projection (:func:`project`: UMAP, t-SNE or PCA, as
many points allow), the plot with one colour per group (:func:`embedding_map`,
:func:`group_colors`), and the output checks and atomic writes of map images and ``.npy``
embeddings — for ``emovc embed-map``/``embed`` and the app's speaker map. The embeddings
themselves come from :class:`~emovc.pipelines.speaker.SpeakerEncoder`."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emovc.errors import ConfigError
from emovc.fileio import atomic_output, check_output_file


def embedding_map(embeddings: np.ndarray, labels: Sequence[str], out: str | os.PathLike,
                  method: str = "auto", force: bool = False, group: str = "speakers",
                  ) -> tuple[Path, str]:
    """2-D projection plot of speaker embeddings, one colour per label.

    Args:
        embeddings: ``(N, D)`` d-vectors.
        labels: ``N`` labels (speakers, or genders when every speaker has one clip).
        group: what the labels are, for the title.
        out: image path (:data:`MAP_EXTENSIONS`); refused if it exists unless ``force``.
        method: ``"umap"`` (needs umap-learn), ``"tsne"``, ``"pca"`` or ``"auto"`` (UMAP if
            installed and there are ≥ 15 points, else t-SNE for ≥ 10, else PCA).

    Returns:
        ``(path, method used)``.
    """
    out = check_map_output(out, force)
    from matplotlib.figure import Figure  # not pyplot: leaves the caller's backend alone

    xy, used = project(embeddings, method)
    fig = Figure(figsize=(7, 6))
    ax = fig.subplots()
    names = sorted(set(labels))
    for name, color in zip(names, group_colors(len(names)), strict=True):
        m = np.array([lab == name for lab in labels])
        label = name if len(names) <= 20 else None
        ax.scatter(xy[m, 0], xy[m, 1], s=18, color=color, label=label)
    if len(names) <= 20:
        ax.legend(fontsize=7, markerscale=0.8, loc="best")
    ax.set_title(f"Speaker embeddings ({used}, {len(labels)} clips, {len(names)} {group})")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    with atomic_output(out, suffix=out.suffix) as tmp:
        fig.savefig(tmp, dpi=120)
    return out, used


def group_colors(n: int) -> list[tuple[float, ...]]:
    """``n`` colours for the groups of a map, as distinct as their number allows: tab10's for
    up to 10 groups; tab20's for up to 20, its 10 full shades first and then their light
    ones (``plt.get_cmap("tab20", 2)`` had given two groups dark and light blue); beyond 20
    (no legend) evenly spaced hues."""
    import matplotlib

    if n <= 10:
        return list(matplotlib.colormaps["tab10"].colors[:n])
    if n <= 20:
        tab20 = matplotlib.colormaps["tab20"].colors  # (dark, light) pairs of one hue
        return [tab20[i] for i in [*range(0, 20, 2), *range(1, 20, 2)][:n]]
    hsv = matplotlib.colormaps["hsv"]
    return [hsv(i / n)[:3] for i in range(n)]


#: image formats of embedding maps (matplotlib writes each from the extension)
MAP_EXTENSIONS = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".eps", ".tif", ".tiff")


def check_map_output(out: str | os.PathLike, force: bool = False) -> Path:
    """Check a map image path before any work; returns it as a ``Path``.

    Raises:
        ConfigError: a folder, an extension not in :data:`MAP_EXTENSIONS`, or an existing
            file without ``force``.
    """
    return check_output_file(out, MAP_EXTENSIONS, force, "map image")


def check_embeddings_output(out: str | os.PathLike, force: bool = False) -> Path:
    """Check an embeddings path (``.npy``) before any work; returns it as a ``Path``.

    Raises:
        ConfigError: a folder, another extension, or an existing file without ``force``.
    """
    return check_output_file(out, (".npy",), force, "embeddings")


UMAP_MIN_POINTS = 15  # UMAP's default neighbourhood; fewer points: t-SNE or PCA is the honest map


MAP_METHODS = ("auto", "umap", "tsne", "pca")


def check_map_method(method: str) -> None:
    """Refuse a map method not in :data:`MAP_METHODS` (one line listing them)."""
    if method not in MAP_METHODS:
        raise ConfigError(f"unknown map method {method!r}; valid choices: "
                          f"{', '.join(MAP_METHODS)}")


def check_map_points(n: int, method: str, note: str = "") -> None:
    """Refuse a map of ``n`` points that :func:`project` would refuse (``note`` is added to
    the count in the message)."""
    check_map_method(method)
    if n < 3:
        raise ConfigError(f"need at least 3 embeddings for a map, got {n}{note}")
    if method == "umap" and n < UMAP_MIN_POINTS:
        raise ConfigError(f"UMAP needs at least {UMAP_MIN_POINTS} embeddings, got {n}{note} "
                          "(use --method tsne or pca)")
    if method == "umap" and importlib.util.find_spec("umap") is None:
        raise ConfigError("UMAP needs umap-learn: pip install umap-learn (or use --method tsne)")


def project(x: np.ndarray, method: str = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """2-D projection of embeddings for a map (``emovc embed-map`` and the app's speaker map).

    UMAP keeps its default euclidean metric: for unit-norm d-vectors
    ``|u - v|² = 2 - 2·cos(u, v)``, so the neighbours are the same as by cosine.

    Args:
        x: ``(N, D)`` embeddings, ``N ≥ 3``.
        method: ``"umap"`` (needs umap-learn and ``N ≥`` :data:`UMAP_MIN_POINTS`),
            ``"tsne"``, ``"pca"`` or ``"auto"`` (UMAP if installed and ``N ≥ 15``, else t-SNE
            for ``N ≥ 10``, else PCA).
        seed: random state of the projection (UMAP, t-SNE, a randomised PCA).

    Returns:
        ``(points (N, 2), method used: "umap", "tsne" or "pca")``.

    Raises:
        ConfigError: an unknown method, fewer than 3 points, or UMAP asked for but not
            possible.
    """
    x = np.asarray(x, dtype=np.float64)
    check_map_points(len(x), method)
    if (method in ("auto", "umap") and len(x) >= UMAP_MIN_POINTS
            and importlib.util.find_spec("umap") is not None):
        import umap

        reducer = umap.UMAP(n_neighbors=UMAP_MIN_POINTS - 1, random_state=seed, n_jobs=1)
        return np.asarray(reducer.fit_transform(x)), "umap"
    if method == "tsne" or (method == "auto" and len(x) >= 10):
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(x) - 1) // 3)))
        tsne = TSNE(perplexity=perplexity, init="pca", random_state=seed)
        return tsne.fit_transform(x), "tsne"
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(x), "pca"


def save_embeddings(out: str | os.PathLike, embeddings: np.ndarray, force: bool = False) -> Path:
    """Atomically write ``(N, D)`` embeddings to a ``.npy`` file (refuses overwrite;
    see :func:`check_embeddings_output`)."""
    out = check_embeddings_output(out, force)
    with atomic_output(out, suffix=".npy") as tmp:
        np.save(tmp, np.asarray(embeddings, dtype=np.float32))
    return out
