"""Execution backends of ``emovc augment``: a local process pool (default) or a Ray cluster,
each worker loading the converter once and running :func:`convert_task` per file. Used by
:mod:`emovc.pipelines.augment`."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

from tqdm.auto import tqdm

from emovc.errors import ConfigError, EmovcError, call_recording_warnings, reissue_warnings
from emovc.pipelines.augment_state import Task

_WORKER: dict = {}


def _init_worker(model: str) -> None:
    import torch

    from emovc.pipelines.conversion import EmotionConverter

    torch.set_num_threads(1)
    converter = EmotionConverter.from_pretrained(model)
    # the conversion as measured in docs/augmentation.md, whatever the model's defaults for
    # `emovc convert`: the emotion's full change of mean pitch and the envelope change as
    # converted — training data for a recogniser wants the emotion's cues
    converter.settings = converter.settings.with_overrides(
        pitch_level=1.0, envelope_smoothing_ms=0.0, envelope_gain=1.0, renderer="world",
        voice_quality=0.0)
    _WORKER["converter"] = converter


def convert_task(task: Task, intensity: float) -> tuple[bool, str]:
    """Run one task with the worker's converter (:func:`_init_worker`: pitch level 1, no
    envelope smoothing, envelope gain 1, no voice quality, WORLD renderer); returns ``(ok,
    source emotion used | error message)``."""
    try:
        _, src = _WORKER["converter"].convert_file(task.utt.path, task.out, task.target,
                                                   source=task.utt.emotion or None,
                                                   intensity=intensity)
    except EmovcError as exc:
        return False, str(exc)
    except Exception as exc:  # noqa: BLE001 - one odd file must not abort a corpus-wide run
        return False, f"{type(exc).__name__}: {exc}"
    return True, src or ""


def run_local(tasks: list[Task], model: str, intensity: float, workers: int,
               progress: bool) -> list[tuple[bool, str]]:
    if not tasks:
        return []
    bar = tqdm(total=len(tasks), desc="augment", unit="file", disable=not progress)
    workers = min(workers, len(tasks))  # no idle processes loading the model for nothing
    if workers <= 1:
        _init_worker(model)
        results = []
        for t in tasks:
            results.append(convert_task(t, intensity))
            bar.update()
        bar.close()
        return results
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(model,)) as pool:
        futures, results = [], []
        try:
            futures.extend(pool.submit(call_recording_warnings, convert_task, t, intensity)
                           for t in tasks)
            for f in futures:  # in order, so results line up with tasks
                result, records = f.result()
                reissue_warnings(records)  # shown here, in the caller's format
                results.append(result)
                bar.update()
        except BaseException:  # Ctrl-C: the queued conversions never start (resume redoes them)
            for f in futures:
                f.cancel()
            raise
    bar.close()
    return results


def import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("backend 'ray' needs Ray: pip install 'emovc[ray]' "
                          "(or use --backend local)") from None
    return ray


def run_ray(tasks: list[Task], model: str, intensity: float, workers: int,
             progress: bool) -> list[tuple[bool, str]]:
    ray = import_ray()
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), ignore_reinit_error=True,
                 include_dashboard=False, log_to_driver=False)

    @ray.remote(num_cpus=1)
    class _Converter:  # one loaded model per actor, reused for many files
        def __init__(self) -> None:
            _init_worker(model)

        def run(self, task: Task) -> tuple[bool, str]:
            return convert_task(task, intensity)

    n_actors = max(1, min(workers, int(ray.available_resources().get("CPU", 1))))
    pool = ray.util.ActorPool([_Converter.remote() for _ in range(n_actors)])
    bar = tqdm(total=len(tasks), desc="augment (ray)", unit="file", disable=not progress)
    results = []
    for res in pool.map(lambda actor, t: actor.run.remote(t), tasks):
        results.append(res)
        bar.update()
    bar.close()
    return results
