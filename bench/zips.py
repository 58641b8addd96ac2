"""A ZIP of results chosen in the history (`/history/zip/`): 1 GiB in 8 files through the app
(gunicorn gthread, DEBUG off), against a plain sendfile() copy of the same bytes in one file to a
socket; the app's own download of that one file is printed for comparison. No target in issue 8:
an archivist taking a season's masters in one click feels it as a download. The ZIP is stored
(FLAC does not deflate), and the app reads every byte for its CRC-32, in a thread of its own
(converter/read_ahead.py). Memory: the gunicorn workers' growth over the downloads.

Run: .venv/bin/python bench/zips.py [--mib 1024] [--files 8] [--repeats 5]
"""

from __future__ import annotations

from downloads import completed_output, side_process
from harness import (
    MIB,
    VAR_DIR,
    MemoryWatch,
    bench_start,
    best_of,
    big_file,
    download,
    gunicorn,
    signed_in,
    timed_download,
)


def main() -> None:
    args = bench_start("zips", "{mib} MiB in {files} files", mib=1024, files=8, repeats=5)
    user, team, cookie = signed_in("bench-zips")
    folder = VAR_DIR / "media" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    files = int(args.files)
    parts = [big_file(folder / f"part-{n}.flac", args.mib * MIB // files) for n in range(files)]
    whole = big_file(folder / "whole.flac", args.mib * MIB // files * files)
    headers = {"Cookie": cookie}
    try:
        with gunicorn() as server:
            sendfile, port = side_process("--serve-sendfile", whole)
            try:
                query = "&".join(f"job={completed_output(team, user, path).job_id}" for path in parts)
                urls = {"sendfile": f"http://127.0.0.1:{port}/", "zip": f"{server.url}/history/zip/?{query}",
                        "one file": f"{server.url}/outputs/{completed_output(team, user, whole).pk}/download"}
                for url in urls.values():
                    download(url, headers)  # warm up the page cache and both sides
                sizes: dict[str, list[int]] = {name: [] for name in urls}
                with MemoryWatch(server.workers()) as memory:
                    seconds = best_of(int(args.repeats), *(timed_download(url, headers, sizes[name])
                                                           for name, url in urls.items()))
            finally:
                sendfile.terminate()
                sendfile.wait()
    finally:
        for path in [*parts, whole]:
            path.unlink(missing_ok=True)
    speed = {name: sizes[name][0] / MIB / took for name, took in zip(urls, seconds, strict=True)}
    print(f"ZIP of {files} results, {sizes['zip'][0] / MIB:.0f} MiB (no target)")
    print(f"  baseline sendfile of one file of the same bytes {speed['sendfile']:.0f} MiB/s")
    print(f"  measured {speed['zip']:.0f} MiB/s, {speed['zip'] / speed['sendfile']:.2f}x; "
          f"worker memory growth {memory.growth / MIB:.1f} MiB")
    print(f"  the app's download of that one file {speed['one file']:.0f} MiB/s, "
          f"{speed['one file'] / speed['sendfile']:.2f}x")


if __name__ == "__main__":
    main()
