"""Screenshots of mtasts-bot's Slack messages for the README.

    .venv/bin/python docs/screenshots/render.py [--from DIR] [--html-dir DIR]

Runs `mtasts demo` in-process (the real app against the built-in testbed; its
Block Kit JSON goes to a temporary folder), or reads an existing demo-output
folder with `--from`, renders chosen messages as a Slack-like HTML page
(docs/screenshots/slack_html.py) and screenshots each with headless Chromium
into docs/screenshots/*.png, cropped to the content.

Needs Chromium (Debian: `apt-get install -y chromium`; `CHROMIUM=/path` picks
another binary). For the look of the committed pictures also install
`fonts-lato` and `fonts-noto-color-emoji`; without them a system sans-serif and
whatever emoji font exists are used. Not part of the test suite or CI.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

from slack_html import page_html  # noqa: E402

# (output PNG, demo domain whose result message it shows)
SHOTS: tuple[tuple[str, str], ...] = (
    ("result-testing.png", "testing-backup.example"),
    ("result-error.png", "mx-expired.example"),
    # the alert the demo's watch posts when good.example's policy changes under the same id
    ("alert-policy-changed.png", "good.example.alert"),
    ("tlsrpt-summary.png", "mx-expired.example.tlsrpt"),  # a TLS-RPT report shared in a DM
)
WIDTH = 900
SCALE = 1  # device pixels per CSS pixel
MEASURE_HEIGHT = 3000
_HEIGHT_MARK = re.compile(r'data-height="(\d+)"')
_CHECKED = re.compile(r"Checked \d{4}-\d\d-\d\d (\d\d):(\d\d)")


def demo_payloads(source: Path | None) -> dict[str, dict[str, Any]]:
    """Each demo domain's result message: read from `source`, or made by running the demo."""
    if source is not None:
        return _read_payloads(source)
    from bot import demo

    with tempfile.TemporaryDirectory(prefix="mtasts-shots-") as tmp:
        log = io.StringIO()
        status = demo.run(out=log, output_dir=Path(tmp), colour=False, width=100)
        if status != 0:
            sys.exit(f"render: mtasts demo failed (exit status {status})\n{log.getvalue()}")
        return _read_payloads(Path(tmp))


def _read_payloads(folder: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(folder.glob("*.json")):
        domain = path.name.removesuffix(".json")
        if "." in domain and not domain.endswith((".explain", ".details", ".watch")):
            found[domain] = json.loads(path.read_text(encoding="utf-8"))
    return found


def time_label(payload: dict[str, Any]) -> str:
    """The post time Slack would show ("7:17 AM"), from the message's "Checked … HH:MM" context."""
    match = _CHECKED.search(json.dumps(payload))
    if not match:
        return "9:41 AM"
    hour, minute = int(match.group(1)), match.group(2)
    return f"{(hour - 1) % 12 + 1}:{minute} {'AM' if hour < 12 else 'PM'}"


def chromium() -> str:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return str(shutil.which(name))
    sys.exit("render: Chromium not found; install it (apt-get install -y chromium)")


def _run_chromium(browser: str, profile: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--force-device-scale-factor={SCALE}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def content_height(browser: str, profile: str, page: Path) -> int:
    """The page's height in CSS pixels, measured by Chromium itself (so no image cropping)."""
    probe = page.with_suffix(".measure.html")
    script = (
        "<script>document.body.setAttribute('data-height',"
        "Math.ceil(document.querySelector('.page').getBoundingClientRect().height))</script>"
    )
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", script + "</body>"))
    done = _run_chromium(
        browser,
        profile,
        f"--window-size={WIDTH},{MEASURE_HEIGHT}",
        "--virtual-time-budget=2000",
        "--dump-dom",
        probe.as_uri(),
    )
    match = _HEIGHT_MARK.search(done.stdout)
    if not match:
        sys.exit(f"render: could not measure {page.name}: {done.stderr.strip()[-500:]}")
    return int(match.group(1))


def screenshot(browser: str, page: Path, png: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="mtasts-chromium-") as profile:
        height = content_height(browser, profile, page)
        png.unlink(missing_ok=True)
        done = _run_chromium(
            browser,
            profile,
            f"--window-size={WIDTH},{height}",
            "--virtual-time-budget=2000",
            f"--screenshot={png}",
            page.as_uri(),
        )
    if not png.exists():
        sys.exit(f"render: no screenshot for {page.name}: {done.stderr.strip()[-500:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="read Block Kit JSON from this folder (e.g. demo-output) instead of running the demo",
    )
    parser.add_argument(
        "--html-dir", type=Path, help="keep the HTML pages here (default: a temporary folder)"
    )
    parser.add_argument("--out", type=Path, default=HERE, help="where the PNGs go")
    args = parser.parse_args(argv)

    payloads = demo_payloads(args.source)
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="mtasts-html-") as tmp:
        html_dir = args.html_dir or Path(tmp)
        html_dir.mkdir(parents=True, exist_ok=True)
        args.out.mkdir(parents=True, exist_ok=True)
        for png_name, domain in SHOTS:
            payload = payloads.get(domain)
            if payload is None:
                sys.exit(f"render: no result message for {domain}")
            page = (html_dir / png_name).with_suffix(".html").resolve()
            page.write_text(
                page_html([payload], times=[time_label(payload)], title=domain),
                encoding="utf-8",
            )
            png = (args.out / png_name).resolve()
            screenshot(browser, page, png)
            print(f"{png} ({png.stat().st_size // 1024} KB) from {domain}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
