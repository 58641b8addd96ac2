"""Benchmark of the embedded engine, as ratios against baselines measured in the same run.

1. Default conversion (no options) vs bare `ffmpeg -i in.wav out.flac`     target <= 1.10x
   (best of --repeats per side; the engine reads a plain WAV's header in Python, so this is one process),
   and a 1-minute MP3 of it against bare `ffmpeg -i in.mp3 out.flac` (no target: time and size), and a
   1-minute Broadcast WAV of it (bext and iXML chunks) against bare ffmpeg (no target)
2. EBU R128 normalisation vs the ffmpeg-normalize tool, same targets       target >= 5x faster,
   with the accuracy of both (integrated loudness, true peak) measured by ffmpeg's ebur128.
3. The waveform of the default conversion's FLAC (measured on a card's first view) vs bare
   `ffmpeg -i out.flac -f null -`, decoding alone (no target of the issue's; printed)

Run: .venv/bin/python bench/engine.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from converter.engine import EngineInput, convert, waveform  # noqa: E402
from converter.engine.ffmpeg import ffmpeg_binary  # noqa: E402
from converter.options import validate_options  # noqa: E402
from tests import media  # noqa: E402

TARGETS = {"normalize_target_level_ebu": -16.0, "normalize_true_peak_ebu": -1.5,
           "normalize_loudness_range_target_ebu": 11.0}


def timed(*actions, repeats: int) -> list[float]:
    """Best wall time of each action, run interleaved: background load only ever adds time, so the
    fastest of N runs is the closest to the quiet machine's figure, for the baseline and for us alike."""
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(repeats):
        for action, samples in zip(actions, times, strict=True):
            start = time.perf_counter()
            action()
            samples.append(time.perf_counter() - start)
    return [min(samples) for samples in times]


def music_like(path: Path, minutes: float) -> None:
    """Stereo 44.1 kHz/16-bit: pink noise and a tone, swelling slowly (a few LU of range)."""
    seconds = minutes * 60
    media.ffmpeg(
        "-filter_complex",
        f"anoisesrc=c=pink:r=44100:d={seconds}:a=0.2:seed=1[n];sine=f=220:r=44100:d={seconds}[s];"
        "[n][s]amix=inputs=2:normalize=0,volume='0.6+0.3*sin(2*PI*t/40)':eval=frame,"
        "aformat=channel_layouts=stereo",
        "-c:a", "pcm_s16le", str(path),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--default-only", action="store_true", help="Skip the (slow) normalisation case.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    try:
        source = work / "in.wav"
        music_like(source, args.minutes)
        version = subprocess.run([ffmpeg_binary(), "-version"], capture_output=True, text=True).stdout
        version = version.split()[2]
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"ffmpeg {version}, load average {os.getloadavg()[0]:.2f}")
        print(f"input: {args.minutes:g} min stereo 44.1 kHz/16-bit WAV, {source.stat().st_size / 1e6:.0f} MB")

        def engine_default(path: Path = source):
            shutil.rmtree(work / "ours", ignore_errors=True)
            convert([EngineInput(path, path.name)], work / "ours", {})

        bare, ours = timed(lambda: media.ffmpeg("-i", str(source), str(work / "bare.flac")), engine_default,
                           repeats=args.repeats)
        print(f"default conversion: bare ffmpeg {bare:.2f} s, engine {ours:.2f} s, ratio {ours / bare:.2f}x "
              "(target <= 1.10x)")
        # Bare ffmpeg writes FLAC blocks as long as the MP3 decoder's first frame (47 samples);
        # the engine writes 4096-sample blocks (engine/flac.py).
        mp3 = work / "in.mp3"
        media.ffmpeg("-t", "60", "-i", str(source), "-c:a", "libmp3lame", "-b:a", "192k", str(mp3))
        bare_mp3, ours_mp3 = timed(lambda: media.ffmpeg("-i", str(mp3), str(work / "bare-mp3.flac")),
                                   lambda: engine_default(mp3), repeats=3)
        sizes = [(work / name).stat().st_size / 1e6 for name in ("bare-mp3.flac", "ours/in.flac")]
        print(f"a 1-minute 192 kb/s MP3 (no target): bare ffmpeg {bare_mp3:.2f} s, {sizes[0]:.1f} MB; engine "
              f"{ours_mp3:.2f} s, {sizes[1]:.1f} MB; ratio {ours_mp3 / bare_mp3:.2f}x")
        # Recorders and broadcast tools write bext and iXML chunks: read in Python too (engine/headers.py).
        minute = work / "minute.wav"
        media.ffmpeg("-t", "60", "-i", str(source), "-c:a", "pcm_s16le", "-fflags", "+bitexact", str(minute))
        bwf = media.with_chunks(minute, work / "bwf.wav", [
            media.bext(b"Interview, take 3", b"Radio X", b"REF-1", b"2026-12-01", b"10:20:30", 158_760_000,
                       coding_history=b"A=PCM,F=44100,W=16,M=stereo,T=Recorder\r\n"),
            media.riff_chunk(b"iXML", b'<?xml version="1.0"?><BWFXML><TAKE>3</TAKE></BWFXML>')])
        bare_bwf, ours_bwf = timed(lambda: media.ffmpeg("-i", str(bwf), str(work / "bare-bwf.flac")),
                                   lambda: engine_default(bwf), repeats=args.repeats)
        print(f"a 1-minute Broadcast WAV (bext, iXML; no target): bare ffmpeg {bare_bwf:.3f} s, engine "
              f"{ours_bwf:.3f} s, ratio {ours_bwf / bare_bwf:.2f}x")
        flac = work / "bare.flac"
        frames = int(args.minutes * 60 * 44100)
        decoding, measuring = timed(lambda: media.ffmpeg("-i", str(flac), "-f", "null", "-"),
                                    lambda: waveform(flac, channels=2, frames=frames, slices=480),
                                    repeats=args.repeats)
        print(f"waveform of that FLAC: decoding it alone {decoding:.2f} s, the waveform {measuring:.2f} s, "
              f"ratio {measuring / decoding:.2f}x")
        if args.default_only:
            return

        options = validate_options({"normalize": True, "normalize_type": "ebu", **TARGETS})
        result = {}

        def engine_ebu():
            out = work / "ebu"
            shutil.rmtree(out, ignore_errors=True)
            result["outputs"], _ = convert([EngineInput(source, "in.wav")], out, options)

        (ebu,) = timed(engine_ebu, repeats=1)
        tool_output = work / "tool.flac"
        env = os.environ | {"FFMPEG_PATH": ffmpeg_binary()}
        tool_command = [str(Path(sys.executable).parent / "ffmpeg-normalize"), str(source), "-f",
                        "-nt", "ebu",
                        "-t", str(TARGETS["normalize_target_level_ebu"]),
                        "-tp", str(TARGETS["normalize_true_peak_ebu"]),
                        "-lrt", str(TARGETS["normalize_loudness_range_target_ebu"]),
                        "-c:a", "flac", "-ar", "44100", "-o", str(tool_output)]
        (tool,) = timed(lambda: subprocess.run(tool_command, env=env, check=True, capture_output=True),
                        repeats=1)
        ours_measured = media.loudness(result["outputs"][0].path)
        tool_measured = media.loudness(tool_output)
        before = media.loudness(source)
        print(f"EBU R128 to {TARGETS['normalize_target_level_ebu']} LUFS, "
              f"{TARGETS['normalize_true_peak_ebu']} dBTP, "
              f"LRA {TARGETS['normalize_loudness_range_target_ebu']} LU "
              f"(input {before['integrated']} LUFS, {before['true_peak']} dBTP, LRA {before['range']} LU):")
        rows = (("engine", ebu, ours_measured), ("ffmpeg-normalize", tool, tool_measured))
        for label, seconds, measured in rows:
            print(f"  {label:17} {seconds:6.2f} s  I {measured['integrated']:6.1f} LUFS  "
                  f"TP {measured['true_peak']:5.1f} dBTP  LRA {measured['range']:4.1f} LU")
        print(f"  engine method: {result['outputs'][0].report['normalization']}; "
              f"speed-up {tool / ebu:.1f}x (target >= 5x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
