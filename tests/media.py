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
