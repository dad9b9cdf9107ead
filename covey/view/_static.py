"""The view's stylesheet and its one script, served from memory (no network at page load)."""

from __future__ import annotations

__all__ = ["LIVE_JS", "VIEW_CSS"]

VIEW_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #fafbfc; }
nav { background: #24292f; padding: 8px 16px; }
nav a { color: #fff; margin-right: 16px; text-decoration: none; font-weight: 600; }
main { padding: 8px 24px 32px; }
table { border-collapse: collapse; margin: 8px 0 16px; background: #fff; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f3f6; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 6px; margin: 4px 0;
      white-space: pre-wrap; word-break: break-word; max-width: 1100px; }
.passed, .ok { color: #1a7f37; font-weight: 600; }
.failed, .error { color: #cf222e; font-weight: 600; }
.message { border-left: 4px solid #d0d7de; padding: 2px 10px; margin: 8px 0; background: #fff; }
.message.assistant { border-color: #0969da; }
.message.tool { border-color: #8250df; }
.role { font-weight: 600; text-transform: uppercase; font-size: 12px; color: #57606a; }
.tool-call { border: 1px dashed #8250df; padding: 4px 8px; margin: 4px 0; }
.span-row { display: grid; grid-template-columns: 380px 1fr 170px; gap: 8px; align-items: center;
            padding: 2px 0; border-bottom: 1px solid #eaeef2; }
.tokens { color: #57606a; font-size: 12px; }
.bar-track { position: relative; height: 14px; background: #f0f3f6; }
.bar { position: absolute; top: 0; bottom: 0; background: #0969da; min-width: 2px; }
.bar.error { background: #cf222e; }
details.span-detail { margin: 2px 0 8px 0; }
.steps a { margin-right: 6px; }
.steps a.current { font-weight: 700; text-decoration: none; color: #1b1f24; }
.added { background: #dafbe1; }
.removed { background: #ffebe9; }
form { margin: 8px 0; }
input[type=text] { padding: 4px; width: 320px; }
"""

# Reloads the page when the store changes: the server puts the store's stamp on <body>.
LIVE_JS = """
(function () {
  var stamp = document.body.getAttribute("data-stamp");
  if (stamp === null) { return; }
  setInterval(function () {
    fetch("/api/stamp", {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (data) { if (data.stamp !== stamp) { location.reload(); } })
      .catch(function () {});
  }, 2000);
})();
"""
