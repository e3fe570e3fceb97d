"""The 调度会 material: the full district deck (PPTX + PDF + XLSX) and the meeting page, on both datasets.

For each dataset: read it (not counted in the deck), then time the full deck
from nothing cached — the meeting brief (case table, queen weights, day-care
coverage, leagues, Gi* of two months) plus the three files — and each part
alone. The reference in the same run is LibreOffice converting the same PPTX to
PDF (what staff do by hand today: open the deck, export a PDF), when it is
installed. The page: the server started on the dataset, /meeting opened once
(cold), then reloaded; the clock stops when the five figures and the three
pictures are drawn.

    python -m bench.bench_report [--repeat 3] [--no-write]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pymupdf

from analysis.meeting import meeting_brief
from bench.results import DEMO, WUCHANG, machine_line, timed, write_section
from bench.server import start_server, time_opens
from geo.dataset import read_dataset
from reports import build_report

DATASETS = (("demo (Shifeng, 232 grids, 12,000 cases)", DEMO), ("wuchang (1,811 grids, 1 M cases)", WUCHANG))


def deck_times(path: Path, repeat: int) -> dict[str, object]:
    t0 = time.perf_counter()
    ds = read_dataset(path)
    read_s = time.perf_counter() - t0
    parts: dict[str, list[float]] = {"brief": [], "pptx": [], "pdf": [], "xlsx": [], "total": []}
    sizes: dict[str, int] = {}
    for _ in range(repeat):
        t_start = time.perf_counter()
        t0 = time.perf_counter()
        brief = meeting_brief(ds)
        parts["brief"].append(time.perf_counter() - t0)
        for fmt in ("pptx", "pdf", "xlsx"):
            t0 = time.perf_counter()
            data = build_report(ds, brief, fmt)
            parts[fmt].append(time.perf_counter() - t0)
            sizes[fmt] = len(data)
            if fmt == "pptx":
                pptx_bytes = data
            if fmt == "pdf":
                doc = pymupdf.open(stream=data, filetype="pdf")
                fonts = {f[3] for i in range(doc.page_count) for f in doc.get_page_fonts(i)}
                embedded = all(len(doc.extract_font(f[0])[3]) > 0 for i in range(doc.page_count)
                               for f in doc.get_page_fonts(i))
        parts["total"].append(time.perf_counter() - t_start)
    ref = libreoffice_pdf_s(pptx_bytes)
    return {"read_s": read_s, "parts": parts, "sizes": sizes, "fonts": sorted(fonts), "embedded": embedded,
            "reference_s": ref, "month": brief.month}


def libreoffice_pdf_s(pptx: bytes) -> float | None:
    """Seconds LibreOffice (headless) takes to turn the deck into a PDF; None when it is not installed."""
    exe = shutil.which("libreoffice") or shutil.which("soffice")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "deck.pptx"
        src.write_bytes(pptx)
        times, _ = timed(lambda: subprocess.run([exe, "--headless", "--convert-to", "pdf", "--outdir", tmp, str(src)],
                                                check=True, capture_output=True, timeout=600), 2)
    return statistics.median(times)


def page_times(path: Path, repeat: int) -> tuple[float, list[float]]:
    """(first visit s, warm reloads s): navigation until the figures and the three pictures are drawn."""
    script = """() => {
        const imgs = [...document.querySelectorAll('[data-testid="stImage"] img')];
        return document.querySelectorAll('[data-testid="stMetricValue"]').length >= 5 && imgs.length === 3
               && imgs.every(i => i.complete && i.naturalWidth > 500); }"""
    with start_server(path) as server:
        return time_opens(f"{server.url}/meeting", lambda page: page.wait_for_function(
            script, timeout=600_000, polling=100), repeat=repeat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    machine = machine_line()
    deck_rows, page_rows, notes = [], [], []
    for label, path in DATASETS:
        if not path.exists():
            raise SystemExit(f"{path} is missing: run `make wuchang` first")
        d = deck_times(path, args.repeat)
        p = d["parts"]
        med = {k: statistics.median(v) for k, v in p.items()}
        target = 15.0 if path == DEMO else 45.0
        ref = d["reference_s"]
        deck_rows.append(
            f"| {label} | {d['month']} | {med['total']:.1f} s ({min(p['total']):.1f}–{max(p['total']):.1f}) | "
            f"{med['brief']:.1f} s | {med['pptx']:.1f} s | {med['pdf']:.1f} s | {med['xlsx']:.1f} s | "
            f"{'—' if ref is None else f'{ref:.1f} s'} | < {target:.0f} s | {'yes' if med['total'] < target else 'no'} |")
        notes.append(f"{label}: reading and validating the dataset {d['read_s']:.1f} s (not in the deck time); "
                     f"files {d['sizes']['pptx'] / 1e6:.2f} MB PPTX, {d['sizes']['pdf'] / 1e6:.2f} MB PDF, "
                     f"{d['sizes']['xlsx'] / 1e6:.2f} MB XLSX; PDF fonts {', '.join(d['fonts'])}, "
                     f"{'all embedded' if d['embedded'] else 'NOT all embedded'} (checked with PyMuPDF).")
        print(deck_rows[-1], flush=True)
        cold, warm = page_times(path, args.repeat)
        page_rows.append(f"| {label} | {cold:.1f} s | {statistics.median(warm):.2f} s ({min(warm):.2f}–{max(warm):.2f}) "
                         f"| < 3 s | {'yes' if statistics.median(warm) < 3 else 'no'} |")
        print(page_rows[-1], flush=True)
    body = "\n".join([
        f"Machine: {machine}. Medians of {args.repeat} runs in one process; each deck is made from nothing cached "
        "(the brief builds the case table, the queen weights and the day-care coverage itself).",
        "",
        "| dataset | month | full deck: brief + PPTX + PDF + XLSX (median, min–max) | brief | PPTX | PDF | XLSX "
        "| reference: LibreOffice PPTX → PDF | target | met |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *deck_rows,
        "",
        *notes,
        "",
        "The 调度会 page in headless Chromium, until the five figures and the three pictures are drawn:",
        "",
        "| dataset | first visit (cold server) | reload, warm (median, min–max) | target | met |",
        "|---|---|---|---|---|",
        *page_rows,
        "",
        "PDF library: fpdf2 embeds a subset of WenQuanYi Micro Hei (TrueType, Debian fonts-wqy-microhei) as a CID "
        "font with a ToUnicode map, so the Chinese text is selectable (Noto Sans CJK SC, CFF, is the slower "
        "fallback; ReportLab cannot embed CFF-based OpenType at all). The PPTX and the PDF share the pictures, "
        "drawn once per brief.",
    ])
    if args.no_write:
        print(body)
    else:
        write_section("Meeting material and the 调度会 page (issue 8)", body)
        print(body)


if __name__ == "__main__":
    main()
