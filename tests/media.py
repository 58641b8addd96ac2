"""Test media made at test time with the bundled ffmpeg (no fixtures checked in).

Importable without Django; the web and API tests reuse it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from converter.engine.ffmpeg import ffmpeg_binary


def ffmpeg(*args: str) -> bytes:
    """Run ffmpeg quietly; return stdout, raise CalledProcessError with its log on failure."""
    result = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
        capture_output=True, check=False,
    )
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, args, result.stdout, result.stderr)
    return result.stdout


def tone(path: Path, *, seconds: float = 2.0, rate: int = 44100, channels: int = 2,
         codec: str = "pcm_s16le", frequency: int = 440, volume_db: float = -6.0,
         extra: tuple[str, ...] = ()) -> Path:
    """A sine (left) plus pink noise (other channels) clip, encoded with `codec`.

    Noise makes every bit matter, so bit-exactness tests mean something.
    """
    source = (
        f"sine=f={frequency}:r={rate}:d={seconds}[s];anoisesrc=c=pink:r={rate}:d={seconds}:a=0.5:seed=7[n];"
        f"[s][n]amix=inputs=2:normalize=0,volume={volume_db}dB"
    )
    layout = {1: "mono", 2: "stereo", 6: "5.1"}[channels]
    ffmpeg("-filter_complex", source + f",aformat=channel_layouts={layout}", "-c:a", codec, *extra, str(path))
    return path


def silence(path: Path, *, seconds: float = 1.0, rate: int = 44100) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"anullsrc=r={rate}:cl=stereo:d={seconds}", "-c:a", "pcm_s16le", str(path))
    return path


def pcm(path: Path, sample_format: str = "s32le", *, stream: int = 0) -> bytes:
    """The decoded samples of one audio stream as raw PCM (s16le, s24le, s32le, s8...)."""
    return ffmpeg("-i", str(path), "-map", f"0:a:{stream}", "-f", sample_format, "-")


def sections(path: Path, *, levels_db: tuple[float, ...] = (0.0, -20.0, 0.0), seconds_each: float = 10.0,
             rate: int = 44100) -> Path:
    """Pink noise whose level steps through `levels_db`: a wide loudness range (LRA ~ 20 LU)."""
    parts = "+".join(
        f"between(t,{i * seconds_each},{(i + 1) * seconds_each})*{10 ** (level / 20):.6f}"
        for i, level in enumerate(levels_db)
    )
    total = seconds_each * len(levels_db)
    ffmpeg("-filter_complex",
           f"anoisesrc=c=pink:r={rate}:d={total}:a=0.3:seed=3,volume='{parts}':eval=frame,"
           "aformat=channel_layouts=stereo", "-c:a", "pcm_s16le", str(path))
    return path


def loudness(path: Path) -> dict[str, float]:
    """Integrated loudness (LUFS), loudness range (LU), true peak (dBTP), measured by ffmpeg's ebur128,
    plus RMS and sample peak (dBFS) from astats."""
    import re

    log = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-af",
         "ebur128=peak=true:framelog=quiet,astats=measure_perchannel=none:measure_overall=RMS_level+Peak_level",
         "-f", "null", "-"], capture_output=True, check=True,
    ).stderr.decode()

    def number(pattern: str) -> float:
        return float(re.findall(pattern, log, re.S)[-1])

    return {
        "integrated": number(r"Integrated loudness:\s+I:\s+(-?[\d.]+) LUFS"),
        "range": number(r"LRA:\s+(-?[\d.]+) LU\n"),
        "true_peak": number(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS"),
        "rms": number(r"RMS level dB: (-?[\d.]+)"),
        "sample_peak": number(r"Peak level dB: (-?[\d.]+)"),
    }


# Every container/codec the bundled ffmpeg writes: file name -> encoder arguments.
# Lossless entries decode to the source's exact samples.
AUDIO_CORPUS: dict[str, tuple[str, ...]] = {
    "wav8.wav": ("-c:a", "pcm_u8"),
    "wav16.wav": ("-c:a", "pcm_s16le"),
    "wav24.wav": ("-c:a", "pcm_s24le"),
    "wav32.wav": ("-c:a", "pcm_s32le"),
    "wavfloat.wav": ("-c:a", "pcm_f32le"),
    "aiff.aiff": ("-c:a", "pcm_s16be"),
    "flac.flac": ("-c:a", "flac"),
    "alac.m4a": ("-c:a", "alac"),
    "wavpack.wv": ("-c:a", "wavpack"),
    "tta.tta": ("-c:a", "tta"),
    "mp3.mp3": ("-c:a", "libmp3lame"),
    "aac.m4a": ("-c:a", "aac"),
    "vorbis.ogg": ("-c:a", "libvorbis"),
    "opus.opus": ("-c:a", "libopus"),
    "wma.wma": ("-c:a", "wmav2"),
    "ac3.ac3": ("-c:a", "ac3"),
    "eac3.eac3": ("-c:a", "eac3"),
    "mp2.mp2": ("-c:a", "mp2"),
}
LOSSLESS = {"wav8.wav": "s8", "wav16.wav": "s16le", "wav24.wav": "s24le", "wav32.wav": "s32le",
            "aiff.aiff": "s16le", "flac.flac": "s16le", "alac.m4a": "s16le", "wavpack.wv": "s16le",
            "tta.tta": "s16le"}
TAGS = {"title": "Song", "artist": "Band", "album": "Record", "track": "3", "date": "2021", "genre": "Jazz"}


def corpus_file(directory: Path, name: str, *, seconds: float = 2.0, tagged: bool = False) -> Path:
    """One AUDIO_CORPUS entry, made from the same tone every time (and cached in `directory`)."""
    path = directory / (("tagged-" if tagged else "") + name)
    if not path.exists():
        source = directory / f"corpus-source-{seconds}.wav"
        if not source.exists():
            tone(source, seconds=seconds)
        metadata = [arg for key, value in TAGS.items() for arg in ("-metadata", f"{key}={value}")]
        if not tagged:
            metadata = []
        ffmpeg("-i", str(source), *AUDIO_CORPUS[name], *metadata, str(path))
    return path


def cover_png(directory: Path) -> Path:
    path = directory / "cover.png"
    if not path.exists():
        ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x64:d=1", "-frames:v", "1", str(path))
    return path


def with_cover(directory: Path, name: str, codec: tuple[str, ...]) -> Path:
    """Audio with the cover PNG as an attached picture (ID3 APIC, MP4 covr, FLAC PICTURE)."""
    path = directory / name
    source = corpus_file(directory, "wav16.wav")
    ffmpeg("-i", str(source), "-i", str(cover_png(directory)), "-map", "0", "-map", "1", *codec,
           "-c:v", "copy", "-disposition:v", "attached_pic", "-metadata", "title=Covered", str(path))
    return path


def video(path: Path, *, audio_streams: int = 1, seconds: float = 2.0, codecs: tuple[str, ...] = ()) -> Path:
    """A small test-pattern video with 0..n audio tracks (tones of different pitch)."""
    args = ["-f", "lavfi", "-i", f"testsrc=s=64x48:r=10:d={seconds}"]
    for number in range(audio_streams):
        args += ["-f", "lavfi", "-i", f"sine=f={300 + 200 * number}:r=48000:d={seconds}"]
    args += ["-map", "0:v"] + [arg for n in range(audio_streams) for arg in ("-map", f"{n + 1}:a")]
    ffmpeg(*args, *codecs, "-shortest", str(path))
    return path
