"""Video files through PyAV (FFmpeg's libraries): frames decoded as a stream, and written
atomically with the source's frame rate, time base, size and audio.

* :func:`probe` tells what a clip holds (:class:`Clip`); :func:`read_frames` yields its frames
  from any frame on, one at a time (RGB, uint16 for sources of more than 8 bits, else uint8).
* :class:`VideoWriter` encodes frames into a temporary file beside the target, copies the
  source's audio stream untouched, and renames it over the target when closed: no
  half-written video is ever left.
* The codec is chosen by the extension (:data:`DEFAULT_CODECS`) or by name (:data:`CODECS`):
  ``.mov`` ProRes 422 HQ at 10 bits, ``.mp4`` H.264 at 8 bits, ``.mkv`` FFV1 at 16 bits
  (lossless).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import ImageReadError, InputError, OutputError

#: Files taken as video clips.
VIDEO_SUFFIXES = (".mov", ".mp4", ".m4v", ".mkv", ".avi", ".mxf", ".webm")

#: Codecs by name: (FFmpeg encoder, pixel format, encoder options, bits per sample).
CODECS = {
    "prores": ("prores_ks", "yuv422p10le", {"profile": "3"}, 10),  # ProRes 422 HQ
    "prores4444": ("prores_ks", "yuv444p10le", {"profile": "4"}, 10),
    "h264": ("libx264", "yuv420p", {"crf": "12", "preset": "fast"}, 8),
    "h264-10": ("libx264", "yuv420p10le", {"crf": "12", "preset": "fast"}, 10),
    "hevc-10": ("libx265", "yuv420p10le", {"crf": "12", "x265-params": "log-level=error"}, 10),
    "hevc-12": ("libx265", "yuv444p12le", {"crf": "12", "x265-params": "log-level=error"}, 12),
    "ffv1": ("ffv1", "yuv444p16le", {"level": "3"}, 16),  # lossless
}

#: The codec of each video extension unless one is named.
DEFAULT_CODECS = {".mov": "prores", ".mp4": "h264", ".m4v": "h264", ".mkv": "ffv1",
                  ".avi": "ffv1", ".mxf": "prores", ".webm": "ffv1"}


def is_video(path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _av():
    try:
        import av
    except ImportError:
        raise InputError("video files need PyAV: pip install av (or transfer[film])") from None
    return av


@dataclass(frozen=True)
class Clip:
    """What a video file holds: its frame count, rate, time base, size, bits per sample of
    the video, whether it has audio, and the first frame's time stamp."""

    path: str
    frames: int
    rate: Fraction
    time_base: Fraction
    width: int
    height: int
    bits: int
    audio: bool
    start: int

    def index(self, pts: int) -> int:
        """The number of the frame shown at time stamp ``pts``."""
        return int(round((pts - self.start) * self.time_base * self.rate))

    def pts(self, index: int) -> int:
        """The time stamp of frame ``index``."""
        return self.start + int(round(index / (self.rate * self.time_base)))


def _open(path):
    av = _av()
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file" if not path.exists() else f"{path}: is a folder")
    try:
        container = av.open(str(path))
    except Exception as exc:
        raise ImageReadError(f"{path}: not a readable video ({getattr(exc, 'strerror', None) or exc})") from None
    if not container.streams.video:
        container.close()
        raise ImageReadError(f"{path}: has no video stream")
    return container


def probe(path, *, count: bool = True) -> Clip:
    """The :class:`Clip` of a video file; ImageReadError naming a file that is missing, not a
    video or without a video stream. Where the container does not store the frame count
    (Matroska), the packets are counted (no decoding); ``count=False`` leaves it 0 there."""
    with _open(path) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise ImageReadError(f"{path}: the video stream has no frame rate")
        frames = stream.frames or (count and sum(1 for p in container.demux(stream) if p.pts is not None))
        ctx = stream.codec_context
        bits = max((c.bits for c in ctx.format.components), default=8) if ctx.format else 8
        return Clip(str(path), int(frames), Fraction(rate), Fraction(stream.time_base),
                    ctx.width, ctx.height, int(bits), bool(container.streams.audio),
                    int(stream.start_time or 0))


def _colorspace(height: int) -> str:
    return "ITU709" if height >= 720 else "ITU601"


def read_frames(path, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
    """Frames ``start`` to ``stop`` (excluded; None: to the end) of a video as RGB arrays
    (H, W, 3), uint16 where the video has more than 8 bits a sample, else uint8; decoded one at
    a time (never the whole clip in memory)."""
    clip = probe(path, count=False)
    rgb = "rgb48le" if clip.bits > 8 else "rgb24"
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if start > 0:
            container.seek(clip.pts(start), stream=stream, backward=True)
        for frame in container.decode(stream):
            i = clip.index(frame.pts) if frame.pts is not None else start
            if i < start:
                continue
            if stop is not None and i >= stop:
                return
            yield frame.reformat(format=rgb, src_colorspace=_colorspace(frame.height)).to_ndarray()


def codec_of(path, codec: str | None = None) -> str:
    """The codec name for an output ``path`` (by extension, or ``codec``); InputError for an
    unknown one."""
    ext = Path(path).suffix.lower()
    if codec is None:
        if ext not in DEFAULT_CODECS:
            raise InputError(f"{path}: unknown video extension {ext!r}; use one of "
                             + ", ".join(sorted(DEFAULT_CODECS)))
        return DEFAULT_CODECS[ext]
    if codec not in CODECS:
        raise InputError(f"unknown video codec {codec!r}; expected one of {', '.join(CODECS)}")
    return codec


class VideoWriter:
    """Encodes frames into ``path`` like the clip ``like`` (rate, time base, size; its audio
    copied untouched), atomically: the file appears at :meth:`close`, never half-written;
    :meth:`abort` (or leaving a ``with`` block on an exception) removes the temporary file."""

    def __init__(self, path, like: Clip, *, codec: str | None = None, overwrite: bool = False):
        av = _av()
        from .io import check_writable

        self.path = check_writable(path, overwrite=overwrite)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.like = like
        name, pix_fmt, options, self.bits = CODECS[codec_of(path, codec)]
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.stem}-", suffix=self.path.suffix,
                                        dir=self.path.parent)
        os.close(fd)
        self.container = av.open(self.tmp, "w")
        try:
            self.stream = self.container.add_stream(name, rate=like.rate, options=dict(options))
        except Exception as exc:
            self.abort()
            raise InputError(f"{path}: codec {name} cannot be written here ({exc})") from None
        self.stream.width, self.stream.height = like.width, like.height
        self.stream.pix_fmt = pix_fmt
        self.stream.time_base = like.time_base
        self.stream.codec_context.time_base = like.time_base
        self.stream.codec_context.colorspace = 1 if like.height >= 720 else 5  # BT.709 / BT.601
        self.audio = None
        if like.audio:  # added before the first frame: the header is written with it
            with _open(like.path) as source:
                self.audio = self.container.add_stream_from_template(source.streams.audio[0])
        self.count = 0

    def write(self, rgb: np.ndarray) -> None:
        """Appends a frame: RGB (H, W, 3) uint8, uint16 or float in [0, 1] of the clip's size."""
        av = _av()
        if rgb.shape[:2] != (self.like.height, self.like.width):
            raise InputError(f"a frame of {rgb.shape[1]}x{rgb.shape[0]} for a video of "
                             f"{self.like.width}x{self.like.height}")
        if rgb.dtype.kind == "f":
            rgb = np.rint(np.clip(rgb[..., :3], 0, 1) * 65535).astype(np.uint16)
        elif self.bits > 8 and rgb.dtype == np.uint8:
            rgb = rgb[..., :3].astype(np.uint16) * 257
        fmt = "rgb48le" if rgb.dtype == np.uint16 else "rgb24"
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[..., :3]), format=fmt)
        frame = frame.reformat(format=self.stream.pix_fmt, dst_colorspace=_colorspace(self.like.height))
        frame.pts = self.like.pts(self.count) - self.like.start
        frame.time_base = self.like.time_base
        try:
            self.container.mux(self.stream.encode(frame))
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot be written ({exc})") from None
        self.count += 1

    def close(self) -> Path:
        """Flushes the encoder, copies the audio, and puts the file in place."""
        try:
            self.container.mux(self.stream.encode(None))
            if self.audio is not None:
                self._copy_audio()
            self.container.close()
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise OutputError(f"{self.path}: cannot be written ({exc})") from None
        return self.path

    def _copy_audio(self) -> None:
        with _open(self.like.path) as source:
            for packet in source.demux(source.streams.audio[0]):
                if packet.dts is None:  # the demuxer's flush packet
                    continue
                packet.stream = self.audio
                self.container.mux(packet)

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:
            pass
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None:
            self.close()
        else:
            self.abort()
