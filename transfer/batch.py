"""Jobs of many frames: an image sequence or a video clip recolored frame by frame, in one
process or spread over a Dask cluster.

:func:`run` plans a job and carries it out:

1. the frames (image files, or a clip decoded as a stream: :mod:`transfer.video`) and
   where each result goes (a file per frame; for a video output, a folder of frames that the
   client encodes into the video in order as they come in);
2. the tasks: with ``temporal``, the shots, found by cut detection on the frames' colors
   (:func:`transfer.classical.frames.continuity`), each shot one task that carries the
   method's state from frame to frame; otherwise chunks of ``chunk`` frames;
3. the tasks run one after the other in this process (the default: Dask is not imported), or
   on a local cluster of ``workers`` processes, or on the ``dask.distributed`` scheduler at
   ``scheduler``. The references, the LUT and the backbone's weights file go to each worker
   once (scattered), not with every task.

Nothing is lost or done twice: every frame is written atomically; with ``resume`` a frame
already written is not written again (a shot in progress is computed from its first frame,
for its state, and only its missing frames written); a task whose worker dies is retried on
another (Dask's own retries); a frame that fails for bad input is reported by name and the
others are still done. One progress bar counts the frames done, fed by the workers.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import ImageReadError, InputError

CLASSICAL = ("histogram", "idt", "mkl", "reinhard")
DEEP = ("neural", "exemplar", "semantic")  # the methods on deep correspondences
COLORIZERS = ("exemplar", "semantic", "welsh")
METHODS = (*CLASSICAL, "neural", *COLORIZERS, "lut")

#: Frames a task takes when frames are independent (no ``temporal``).
CHUNK = 8

#: The topic of the workers' progress events.
TOPIC = "transfer-frames"


@dataclass
class Report:
    """What a job did: the frames written, those skipped (already written, with ``resume``),
    those that failed (name, reason), the shots and tasks, the seconds it took, the video
    written (or None), and the peak memory in bytes of this process (``"client"``) and of each
    worker (``"workers"``, by address)."""

    frames: int
    shots: int = 0
    tasks: int = 0
    written: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    seconds: float = 0.0
    video: str | None = None
    memory: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every frame was written (now or before)."""
        return not self.failed and len(self.written) + len(self.skipped) == self.frames


# --- the frames and their targets ---------------------------------------------------------


@dataclass(frozen=True)
class Frames:
    """The frames of a job: image files in order, or the frames of one video clip."""

    paths: tuple = ()
    video: str | None = None
    count: int = 0

    def __len__(self):
        return self.count if self.video else len(self.paths)

    def name(self, i: int) -> str:
        return f"{self.video} frame {i}" if self.video else str(self.paths[i])

    def read(self, start: int, stop: int):
        """Yields ``(i, image or the ImageReadError of a file that cannot be read)``."""
        if self.video:
            from .video import read_frames

            yield from enumerate(read_frames(self.video, start, stop), start)
            return
        from .io import read_image

        for i in range(start, stop):
            try:
                yield i, read_image(self.paths[i])
            except ImageReadError as exc:
                yield i, exc


def frames_of(sources) -> Frames:
    """The :class:`Frames` of ``sources``: one video file, or image files (in the order given)."""
    from .video import is_video, probe

    sources = [str(s) for s in ([sources] if isinstance(sources, (str, os.PathLike)) else sources)]
    if not sources:
        raise InputError("no source frames")
    videos = [s for s in sources if is_video(s)]
    if videos and len(sources) > 1:
        raise InputError(f"{videos[0]}: a video is a job of its own; give one clip, or image files")
    if videos:
        return Frames(video=videos[0], count=probe(videos[0]).frames)
    return Frames(paths=tuple(sources))


@dataclass(frozen=True)
class Targets:
    """Where each frame's result goes: ``pattern % (i + 1)`` for a numbered pattern, else
    ``folder / name(i)``."""

    folder: str | None = None
    names: tuple = ()
    pattern: str | None = None

    def path(self, i: int) -> Path:
        return Path(self.pattern % (i + 1)) if self.pattern else Path(self.folder) / self.names[i]


def targets_of(frames: Frames, out, fmt: str | None) -> tuple[Targets, str | None]:
    """The targets of the frames, and the video to encode them into (or None): ``out`` is a
    video file, a numbered file name (``graded/frame_%04d.exr``) or a folder (the results
    named and typed as their sources, or in ``fmt``)."""
    from .video import is_video

    out = str(out)
    if is_video(out):
        work = Path(out).with_name(Path(out).name + ".frames")
        # 16-bit TIFF: 15x faster to write than 16-bit PNG at 1080p (docs/film.md)
        return Targets(folder=str(work), names=tuple(f"{i:06d}.tif" for i in range(len(frames)))), out
    if "%" in out:
        try:
            out % 1
        except (TypeError, ValueError):
            raise InputError(f"{out}: a numbered output needs one integer field such as %04d") from None
        return Targets(pattern=out), None
    if frames.video:
        stem = Path(frames.video).stem
        names = tuple(f"{stem}.{i + 1:06d}.{fmt or 'png'}" for i in range(len(frames)))
    else:
        names = tuple(Path(p).stem + (f".{fmt}" if fmt else Path(p).suffix) for p in frames.paths)
    return Targets(folder=out, names=names), None


# --- one frame ----------------------------------------------------------------------------


@dataclass
class Shared:
    """What every task needs, sent to each worker once: the frames, the targets, the method
    and its options, the references (or LUT), the color space, and the job's flags."""

    frames: Frames
    targets: Targets
    method: str
    refs: list
    lut: np.ndarray | None
    options: dict
    temporal: float | None
    color_space: str
    ocio_config: str | None
    resume: bool
    weights: bytes | None = None  # the backbone's weights file, shipped to the workers


def transfer_one(shared: Shared, img: np.ndarray, state):
    """One frame's result and the state the next frame of its shot takes."""
    m, options, refs = shared.method, dict(shared.options), shared.refs
    if shared.weights is not None:
        options["weights"] = _weights_file(shared.weights)
    if m == "lut":
        from .classical.lut import apply_lut

        return apply_lut(img, shared.lut, **options), None
    t = shared.temporal
    if m in CLASSICAL:
        from .classical import methods
        from .classical.frames import classical_frame_look

        if t is None:
            return methods.METHODS[m](img, refs, **options), None
        return classical_frame_look(img, refs, method=m, previous=state, temporal=t, **options)
    if m == "neural":
        from .neural.pipeline import neural_frame, neural_transfer

        if t is None:
            return neural_transfer(img, refs, **options), None
        return neural_frame(img, refs, previous=state, temporal=t, **options)
    from .colorization.methods import colorize, colorize_frame

    if t is None:
        return colorize(img, refs, method=m, **options), None
    return colorize_frame(img, refs, method=m, previous=state, temporal=t, **options)


_weights_files: dict = {}


def _weights_file(blob: bytes) -> str:
    """The shipped weights written once per process to a file the backbone loads."""
    key = hashlib.sha256(blob).hexdigest()
    if key not in _weights_files:
        import atexit

        fd, path = tempfile.mkstemp(prefix="transfer-weights-", suffix=".pth")
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        atexit.register(os.unlink, path)
        _weights_files[key] = path
    return _weights_files[key]


def render(task: tuple, shared: Shared, notify=None) -> dict:
    """Runs one task (frames ``start`` to ``stop``, a shot or a chunk): returns the frames
    written, skipped and failed. ``notify(i)`` is called as frame ``i`` is done (on a Dask
    worker: an event to the client)."""
    from .image import check_array
    from .io import write_image
    from .spaces import check_space

    start, stop = task
    notify = notify or _worker_notify()
    done = {"written": [], "skipped": [], "failed": []}
    targets = [shared.targets.path(i) for i in range(start, stop)]
    if shared.resume and all(t.exists() for t in targets):
        done["skipped"] = list(range(start, stop))
        for i in range(start, stop):
            notify(i)
        return done
    space = check_space(shared.color_space, shared.ocio_config)
    chained = shared.temporal is not None
    state = None
    for i, img in shared.frames.read(start, stop):
        target = shared.targets.path(i)
        if shared.resume and target.exists() and not chained:
            done["skipped"].append(i)
            notify(i)
            continue
        try:
            if isinstance(img, Exception):
                raise img
            shown, residual = space.to_display(img)
            check_array(shown, shared.frames.name(i))
            result, state = transfer_one(shared, shown, state)
            if shared.resume and target.exists():
                done["skipped"].append(i)  # computed for the shot's state only
            else:
                write_image(target, space.from_display(result, residual), overwrite=True)
                done["written"].append(i)
        except (InputError, TypeError) as exc:
            done["failed"].append((i, str(exc)))
            state = None  # the next frame starts a new chain
        notify(i)
    return done


def _worker_notify():
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return lambda i: None
    return lambda i: worker.log_event(TOPIC, i)


def signatures(task: tuple, shared: Shared) -> list:
    """The coarse color histograms of frames ``start`` to ``stop`` (None for a frame that
    cannot be read), from which :func:`shots` finds the cuts."""
    from .classical.frames import color_histogram
    from .image import to_float
    from .spaces import check_space

    space = check_space(shared.color_space, shared.ocio_config)
    out = []
    for _, img in shared.frames.read(*task):
        if isinstance(img, Exception) or img.ndim != 3:
            out.append(None)
            continue
        shown = space.to_display(img)[0]
        out.append(color_histogram(to_float(np.asarray(shown)[::4, ::4, :3])))
    return out


def shots(histograms: list) -> list:
    """(start, stop) of each shot: a cut where consecutive frames' colors do not continue
    (:func:`~transfer.classical.frames.continuity` 0) or a frame cannot be read."""
    from .classical.frames import continuity

    cuts = [0]
    for i in range(1, len(histograms)):
        a, b = histograms[i - 1], histograms[i]
        if a is None or b is None or continuity(a, b) == 0:
            cuts.append(i)
    cuts.append(len(histograms))
    return list(zip(cuts[:-1], cuts[1:]))


def chunks(n: int, size: int) -> list:
    return [(s, min(n, s + size)) for s in range(0, n, size)]


# --- the job ------------------------------------------------------------------------------


def run(sources, refs=None, *, out, method: str | None = None, lut=None, temporal=None,
        options: dict | None = None, color_space: str = "srgb", ocio_config=None,
        codec: str | None = None, fmt: str | None = None, rate=24, workers: int | None = None,
        scheduler: str | None = None, resume: bool = False, overwrite: bool = False,
        chunk: int = CHUNK, progress=None) -> Report:
    """Recolors the frames of ``sources`` (image files in order, or one video file) with the
    references ``refs`` (images or their files), or through ``lut`` (a .cube file or an
    (N, N, N, 3) array), into ``out`` (a folder, a numbered name, or a video file).

    Parameters
    ----------
    method
        A method of the command line ('mkl', 'neural', 'exemplar', ...; default 'neural', or
        'exemplar' when the first frame is gray); ``options`` its keyword arguments.
    temporal
        The frames are shots of a film: each shot (split at the cuts) recolored consistently,
        the share of the previous frame's look or models kept (see the frame functions).
    color_space, ocio_config
        What the pixels are (:class:`transfer.spaces.Space`); image sequences only.
    codec, rate
        A video output's codec (:data:`transfer.video.CODECS`; by extension when None) and,
        for image sources, its frame rate. A video source gives its own rate, time base, size
        and audio.
    fmt
        Extension of the frames written into a folder (default: each source's; png for video).
    workers, scheduler
        ``workers`` processes of a local Dask cluster, or an existing cluster's scheduler
        address (``tcp://host:8786``); neither: in this process, without Dask.
    resume, overwrite
        Skip frames already written; replace existing outputs. Without either, existing
        outputs are refused before any work.
    progress
        Show a progress bar of the frames done (None: on a terminal), or a function called as
        ``progress(done, total)`` each time a frame is done.

    Returns
    -------
    Report
        Written, skipped and failed frames. A video output is encoded only when every frame was
        done.
    """
    began = time.perf_counter()
    frames = frames_of(sources)
    shared, video = _plan(frames, refs, out=out, method=method, lut=lut, temporal=temporal,
                          options=options, color_space=color_space, ocio_config=ocio_config,
                          codec=codec, fmt=fmt, resume=resume, overwrite=overwrite)
    report = Report(frames=len(frames))
    encoder = _Encoder(frames, shared.targets, video, codec, rate, overwrite) if video else None
    try:
        with _Runner(workers, scheduler, len(frames), progress, encoder) as runner:
            _run_tasks(runner, runner.share(shared), frames, temporal, chunk, report)
            report.memory["workers"] = runner.peak_memory()
    except BaseException:
        if encoder is not None:
            encoder.finish(False)
        raise
    _remove_leftovers(shared.targets, len(frames))
    report.written.sort()
    report.skipped.sort()
    if encoder is not None:
        made = encoder.finish(report.ok)
        report.video = None if made is None else str(made)
    report.seconds = time.perf_counter() - began
    report.memory["client"] = peak_memory()
    return report


def _run_tasks(runner, spread, frames: Frames, temporal, chunk, report: Report) -> None:
    """The shots (with ``temporal``) or chunks of frames, run; their outcomes in ``report``."""
    if temporal is None:
        tasks = chunks(len(frames), max(1, int(chunk)))
    else:
        parts = runner.map(signatures, chunks(len(frames), 4 * max(1, int(chunk))), spread)
        tasks = shots([h for part in parts for h in part])
        report.shots = len(tasks)
    report.tasks = len(tasks)
    for done in runner.map(render, tasks, spread, notify=True):
        report.written += done["written"]
        report.skipped += done["skipped"]
        report.failed += [(frames.name(i), why) for i, why in done["failed"]]


def peak_memory() -> int:
    """This process's peak resident memory, in bytes, since it started (Linux: VmHWM, which
    unlike ``ru_maxrss`` does not carry over from the process that spawned it)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _plan(frames, refs, *, out, method, lut, temporal, options, color_space, ocio_config,
          codec, fmt, resume, overwrite):
    """The job's :class:`Shared` and video output, checked before any work."""
    from .spaces import check_space
    from .video import codec_of

    space = check_space(color_space, ocio_config)
    targets, video = targets_of(frames, out, fmt)
    if (video or frames.video) and not space.display:
        raise InputError("video files hold display pixels: a color space other than srgb is for "
                         "image sequences (OpenEXR, TIFF)")
    if video:
        codec_of(video, codec)
        if Path(video).exists() and not overwrite:
            raise InputError(f"{video}: already exists (overwrite=True / --overwrite to replace it)")
        if Path(targets.folder).exists() and not resume:
            raise InputError(f"{targets.folder}: frames of an earlier run are there; resume=True "
                             "(--resume) to go on, or remove the folder")
    _check_targets(frames, targets, resume or overwrite or bool(video))
    method, options = _method(frames, method, lut, options)
    if temporal is not None:
        from .shot import check_temporal

        temporal = check_temporal(temporal)
    return Shared(frames=frames, targets=targets, method=method,
                  refs=_references(refs) if method != "lut" else [],
                  lut=_lut(lut) if method == "lut" else None, options=options, temporal=temporal,
                  color_space=space.name, ocio_config=space.config, resume=resume), video


def _remove_leftovers(targets: Targets, n: int) -> None:
    """Removes the temporary files of frames whose writer was killed (a worker that died
    mid-write; its task was done again by another)."""
    by_folder = {}
    for i in range(n):
        path = targets.path(i)
        by_folder.setdefault(path.parent, set()).add(path.name[:64])  # as io.write_atomic names them
    for folder, names in by_folder.items():
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            parts = entry.name.split(".")
            if entry.name.startswith(".") and entry.name.endswith(".part") and \
                    ".".join(parts[1:-2]) in names:
                entry.unlink(missing_ok=True)


def _check_targets(frames: Frames, targets: Targets, replace: bool) -> None:
    sources = {Path(p).resolve() for p in (frames.paths or [frames.video])}
    for i in range(len(frames)):
        path = targets.path(i)
        if path.resolve() in sources:
            raise InputError(f"{path}: the result of {frames.name(i)} would replace a source")
        if not replace and path.exists():
            raise InputError(f"{path}: already exists (--resume to skip the frames written, "
                             "--overwrite to replace them)")
    if len({targets.path(i) for i in range(len(frames))}) < len(frames):
        raise InputError("two frames' results would have one name: give a numbered output or "
                         "sources with distinct names")


def _method(frames: Frames, method, lut, options):
    options = dict(options or {})
    options.pop("progress", None)
    options.pop("report", None)
    if lut is not None:
        if method not in (None, "lut"):
            raise InputError("a LUT is applied instead of a method: give one of them")
        return "lut", options
    method = method or default_method(frames)
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if method in DEEP:
        options["progress"] = False
    return method, options


def default_method(frames: Frames) -> str:
    """'exemplar' (colorization) when the first frame is gray, else 'neural'."""
    from .image import is_gray

    first = next(frames.read(0, 1))[1]
    return "exemplar" if not isinstance(first, Exception) and is_gray(first) else "neural"


def _references(refs) -> list:
    from .image import as_reference_list, check_array
    from .io import read_image

    if refs is None:
        raise InputError("give references (refs) or a LUT")
    refs = [refs] if isinstance(refs, (str, os.PathLike)) else refs
    items = as_reference_list(refs) if isinstance(refs, np.ndarray) else list(refs)
    return [check_array(read_image(r), str(r)) if isinstance(r, (str, os.PathLike)) else r for r in items]


def _lut(lut) -> np.ndarray:
    if isinstance(lut, (str, os.PathLike)):
        from .classical.cube import read_cube

        return read_cube(lut)
    return np.asarray(lut, dtype=np.float32)


class _Encoder:
    """Encodes the frames of a video output in order as they are written, in a thread of the
    client beside the tasks (the encoder is the one serial step of a job on many workers).
    The video appears when every frame is in; a missing frame (it failed) stops it, and the
    temporary file is removed."""

    def __init__(self, frames: Frames, targets: Targets, path, codec, rate, overwrite):
        import threading

        self.frames, self.targets, self.path = frames, targets, Path(path)
        self.codec, self.rate, self.overwrite = codec, rate, overwrite
        self.ready, self.stopped, self.error = set(), False, None
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._encode, name="transfer-encoder", daemon=True)
        self.thread.start()

    def add(self, i: int) -> None:
        """Frame ``i`` is done (written, or failed)."""
        with self.cond:
            self.ready.add(i)
            self.cond.notify()

    def finish(self, ok: bool) -> Path | None:
        """Waits for the video (``ok``: every frame was written) or stops it; its path or None."""
        with self.cond:
            self.stopped = not ok
            self.cond.notify()
        self.thread.join()
        if self.error is not None:
            raise self.error
        if not ok:
            return None
        shutil.rmtree(self.targets.folder, ignore_errors=True)
        return self.path

    def _next(self, i: int) -> bool:
        with self.cond:
            while i not in self.ready and not self.stopped:
                self.cond.wait()
            return i in self.ready and self.targets.path(i).exists()

    def _encode(self) -> None:
        from .io import read_image

        writer = None
        try:
            for i in range(len(self.frames)):
                if not self._next(i):
                    break
                img = read_image(self.targets.path(i))
                writer = writer or self._writer(img)
                writer.write(img)
            else:
                if writer is not None:
                    writer.close()
                return
        except Exception as exc:  # given to the client by finish()
            self.error = exc
        if writer is not None:
            writer.abort()

    def _writer(self, first: np.ndarray):
        """The video's writer: like the source clip, or at ``rate`` for image files."""
        from .video import Clip, VideoWriter, probe

        if self.frames.video:
            like = probe(self.frames.video, count=False)
        else:
            rate = Fraction(self.rate).limit_denominator(1001)
            like = Clip("", len(self.frames), rate, 1 / rate, first.shape[1], first.shape[0], 16, False, 0)
        return VideoWriter(self.path, like, codec=self.codec, overwrite=self.overwrite)


class _Runner:
    """Runs tasks in this process, or on a Dask cluster (local processes or a scheduler's),
    with one progress bar of the frames done."""

    def __init__(self, workers, scheduler, total, progress, encoder=None):
        from .progress import progress_bar

        if workers is not None and scheduler is not None:
            raise InputError("workers start a local cluster, scheduler names an existing one: give one")
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise InputError(f"workers must be a positive number of processes, got {workers!r}")
        self.workers, self.scheduler, self.total = workers, scheduler, total
        self.call = progress if callable(progress) else None
        self.bar = None if self.call else progress_bar(total, progress, desc="frames", unit="frame")
        self.seen = set()
        self.encoder = encoder
        self.client = self.cluster = None

    def __enter__(self):
        if self.workers is None and self.scheduler is None:
            return self
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            threads = max(1, (os.cpu_count() or 1) // self.workers)
            self.cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, env={"OMP_NUM_THREADS": str(threads)})
        try:
            self.client = Client(self.cluster or self.scheduler)
        except OSError as exc:
            self.__exit__(None, None, None)
            raise InputError(f"no Dask scheduler at {self.scheduler} ({exc})") from None
        self.client.subscribe_topic(TOPIC, lambda event: self.done(event[1]))
        return self

    def done(self, i) -> None:
        if i not in self.seen:  # a retried task's frames are counted once
            self.seen.add(i)
            if self.bar is not None:
                self.bar.update(1)
            if self.call is not None:
                self.call(len(self.seen), self.total)
            if self.encoder is not None:
                self.encoder.add(i)

    def peak_memory(self) -> dict:
        """Each worker's peak memory in bytes, by address (none in this process)."""
        return {} if self.client is None else self.client.run(peak_memory)

    def share(self, shared: Shared):
        """``shared`` where the tasks run: on a cluster, scattered to every worker once, with
        the backbone's weights file in it (the workers need not see the file)."""
        if self.client is None:
            return shared
        weights = shared.options.get("weights")
        if weights:
            options = {k: v for k, v in shared.options.items() if k != "weights"}
            shared = replace(shared, options=options, weights=Path(weights).read_bytes())
        return self.client.scatter(shared, broadcast=True, hash=False)

    def map(self, fn, tasks, shared, notify=False):
        """Results of ``fn(task, shared)``, in the order of ``tasks``."""
        if self.client is None:
            extra = {"notify": self.done} if notify else {}
            return [fn(task, shared, **extra) for task in tasks]
        results = self.client.gather(self.client.map(fn, tasks, shared=shared, pure=False))
        deadline = time.monotonic() + 2
        while notify and len(self.seen) < self.total and time.monotonic() < deadline:
            time.sleep(0.01)  # the workers' last progress events trail their results
        return results

    def __exit__(self, kind, exc, tb):
        if self.bar is not None:
            self.bar.close()
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
