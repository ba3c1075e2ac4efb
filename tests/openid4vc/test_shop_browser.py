"""The counter page /shop in a real headless Chromium (Debian's package, driven by playwright).

Two counters: a phone wallet answering the page's OpenID4VP QR (our holder over HTTP, the page polls
and shows the verdict), and the offline wallet's KVP1 answer QR read by the page through the camera
(Chromium's fake capture device plays a video of the real answer QR; jsQR decodes it). Screenshots
are kept in .test-work/screenshots/. Skipped only where Chromium or ffmpeg is not installed (scripts/
test.sh installs them from Debian's packages when it runs as root).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.holder import create_wallet
from kaga_vc.holder.openid4vc import present_openid4vp, receive_offer

from ._world import FAST, World, make_world

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_BROWSER = Path(CHROMIUM).exists() and shutil.which("ffmpeg") is not None
try:
    import playwright.sync_api  # noqa: F401
except ImportError:  # pragma: no cover - playwright is in the [test] extra
    HAVE_BROWSER = False
pytestmark = pytest.mark.skipif(not HAVE_BROWSER, reason="Chromium (Debian package chromium), ffmpeg or playwright "
                                "is not installed here: scripts/test.sh installs them as root")
SHOTS = Path(__file__).resolve().parent.parent.parent / ".test-work" / "screenshots"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("shop"))


@pytest.fixture(scope="module")
def wallet(world: World, tmp_path_factory: pytest.TempPathFactory) -> Any:
    wallet = create_wallet(tmp_path_factory.mktemp("wallet") / "wallet.json", "pw", scrypt_n=FAST)
    offer = world.offer("kyc")
    receive_offer(wallet, offer.uri, tx_code=offer.tx_code, session=world.session())
    world.write_bundle()
    return wallet


def _browser(video: Path | None = None) -> Any:
    from playwright.sync_api import sync_playwright

    args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    if video is not None:
        args.append(f"--use-file-for-fake-video-capture={video}")
    manager = sync_playwright().start()
    browser = manager.chromium.launch(executable_path=CHROMIUM, args=args)
    return manager, browser


_CONTRAST = """() => {
  const rgb = (c) => (c.match(/[0-9.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92
                                                    : Math.pow((v + 0.055) / 1.055, 2.4); })
                                   .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
                                 if (c.length < 4 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
  const worst = [];
  for (const el of document.querySelectorAll("body *")) {
    const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
    if (!text || !el.getClientRects().length) continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) worst.push(`${text.slice(0, 30)}: ${ratio.toFixed(2)}`);
  }
  return worst;
}"""


def _low_contrast(page: Any) -> list[str]:
    """Visible text below WCAG 2.x AA's 4.5:1 against its effective background (none expected)."""
    return list(page.evaluate(_CONTRAST))


def _verdict(page: Any) -> str:
    page.locator("#result[data-verdict]").wait_for(timeout=30000)  # selectors: no eval under the page's CSP
    return str(page.get_attribute("#result", "data-verdict"))


def test_openid4vp_at_the_counter(world: World, wallet: Any) -> None:
    manager, browser = _browser()
    try:
        context = browser.new_context(ignore_https_errors=True, locale="ja-JP", viewport={"width": 1024, "height": 900})
        page = context.new_page()
        page.goto(world.verifier.base_url + "/shop")
        # keyboard only: Tab to the first check (age) and press Enter
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.check") == "age"
        page.keyboard.press("Enter")
        page.locator("#request[data-uri]").wait_for()
        uri = str(page.get_attribute("#request", "data-uri"))
        assert uri.startswith("openid4vp://") and page.locator("#qr svg").count() == 1
        # the selected check (white on blue) and its English subtitle included, hovered or not
        assert page.get_attribute("button[data-check=age]", "aria-pressed") == "true"
        assert _low_contrast(page) == []
        page.hover("button[data-check=age]")
        assert _low_contrast(page) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "shop-request.png"), full_page=True)
        assert present_openid4vp(wallet, uri, session=world.session()).status == 200
        assert _verdict(page) == "accepted"
        text = page.inner_text("#result")
        assert "確認できました" in text and "Accepted" in text and "18歳以上" in text and "はい" in text
        assert "加賀 花子" not in text and "1990" not in text  # nothing but the asked claim
        assert page.evaluate("document.activeElement.id") == "result"  # the verdict takes the focus
        assert page.get_attribute("#result", "aria-live") == "assertive"
        page.screenshot(path=str(SHOTS / "shop-accepted.png"), full_page=True)
        assert _low_contrast(page) == []  # the verdict's colours too
    finally:
        browser.close()
        manager.stop()


def test_the_camera_reads_a_kvp1_answer(world: World, wallet: Any, tmp_path: Path) -> None:
    from kaga_vc.verifier.qr import write_qr

    made = world.shop_request("age")
    answer = wallet.present(made["kvp1Request"])
    write_qr(answer.compact, tmp_path / "answer.png", scale=6)
    video = tmp_path / "answer.y4m"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(tmp_path / "answer.png"), "-vf",
                    "scale=1110:1110:flags=neighbor,format=yuv420p", "-t", "2", "-r", "5", str(video)], check=True)
    manager, browser = _browser(video)
    try:
        context = browser.new_context(ignore_https_errors=True, viewport={"width": 1024, "height": 900})
        context.grant_permissions(["camera"], origin=world.verifier.base_url)
        page = context.new_page()
        page.goto(f"{world.verifier.base_url}/shop#request={made['handle']}")
        page.click("#scan")
        try:
            verdict = _verdict(page)
        finally:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "shop-kvp1.png"), full_page=True)
        assert verdict == "accepted"
        assert "18歳以上" in page.inner_text("#result")
        page.screenshot(path=str(SHOTS / "shop-kvp1-accepted.png"), full_page=True)
        assert world.result(made["handle"])["protocol"] == "kvp1"
    finally:
        browser.close()
        manager.stop()
