"""Screenshots of the pages for the README (fictional example): landing, a municipality, a measure, a comparison.

    .venv/bin/python -m tests.browser.screenshots --dist dist --out docs/screenshots
"""

from __future__ import annotations

import argparse
import base64
import threading
from pathlib import Path
from urllib.parse import urlencode

from werkzeug.serving import make_server

from server import create_app
from tests.browser.cdp import Browser

MEASURE = "https://w3id.org/kik/fiktiv/musterstadt/massnahme/kita-sprachbruecke"
OTHER = "https://w3id.org/kik/fiktiv/musterstadt/massnahme/elterncafe-grundschule"


def shoot(browser: Browser, path: Path, selector: str | None = None, height: int = 2200) -> None:
    """From the top (or from ``selector``'s top) down ``height`` CSS pixels (the page's height at most)."""
    top = browser.js(f"Math.max(0, document.querySelector({selector!r}).getBoundingClientRect().top + scrollY - 8)"
                     ) if selector else 0
    total = browser.send("Page.getLayoutMetrics")["cssContentSize"]["height"]
    clip = {"x": 0, "y": top, "width": 1280, "height": min(height, total - top), "scale": 1}
    shot = browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip)
    path.write_bytes(base64.b64decode(shot["data"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dist", type=Path, default=Path("dist"))
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    server = make_server("127.0.0.1", 0, create_app({"KIK_DIST": str(args.dist)}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/"
    browser = Browser()
    try:
        browser.open(base + "?lang=de")
        shoot(browser, args.out / "landing.png", None, 1900)
        browser.open(base + "kommune/fiktiv/musterstadt?lang=de")
        shoot(browser, args.out / "municipality.png", "section.municipality", 2300)
        browser.open(base + MEASURE.removeprefix("https://w3id.org/kik/") + "?lang=de")
        shoot(browser, args.out / "measure.png", None, 1500)
        browser.open(base + "vergleich?" + urlencode([("m", MEASURE), ("m", OTHER), ("lang", "de")]))
        shoot(browser, args.out / "compare.png", None, 1000)
    finally:
        browser.close()
        server.shutdown()
    print(f"screenshots written to {args.out}")


if __name__ == "__main__":
    main()
