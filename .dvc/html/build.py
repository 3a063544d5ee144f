"""Rebuild offline.html: DVC's plots page with Vega, Vega-Lite and vega-embed inlined.

`dvc plots show` fills an HTML template; DVC's default loads the three libraries from a CDN, so
the page is blank without internet. This template carries them inside, so it opens anywhere.
Run from this folder after fetching the tarballs of the versions DVC itself links (see NOTICE.md):

    npm pack vega@5.20.2 vega-lite@5.2.0 vega-embed@6.18.2
    python build.py vega-5.20.2.tgz vega-lite-5.2.0.tgz vega-embed-6.18.2.tgz
"""

import sys
import tarfile
from pathlib import Path

# Inside each npm tarball: the minified browser build, loaded in this order (vega-lite and
# vega-embed attach to the globals that the ones before them define).
BUILDS = {
    "vega": "package/build/vega.min.js",
    "vega-lite": "package/build/vega-lite.min.js",
    "vega-embed": "package/build/vega-embed.min.js",
}

PAGE = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    {{refresh_tag}}
    <title>DVC Plot</title>
    <!-- Vega, Vega-Lite and vega-embed inlined (BSD-3-Clause, see .dvc/html/NOTICE.md), so the
         page renders offline. It has no scripts placeholder,
         where DVC would add its CDN links. -->
{scripts}
    <style>
        table {{
            border-spacing: 15px;
        }}
    </style>
</head>
<body>
    {{plot_divs}}
</body>
</html>
"""


def inline(tarball: Path) -> tuple[str, str]:
    """The library's name@version and its minified build as a <script> element."""
    name = tarball.name.rsplit("-", 1)[0]
    if name not in BUILDS:
        raise SystemExit(f"error: {tarball} is not one of {', '.join(BUILDS)}")
    with tarfile.open(tarball) as tar:
        member = tar.extractfile(BUILDS[name])
        assert member is not None
        code = member.read().decode("utf-8")
    if "</script" in code or "{plot_divs}" in code:
        raise SystemExit(f"error: {tarball} holds text that would break the inlined page")
    version = tarball.name.removesuffix(".tgz").rsplit("-", 1)[1]
    return name, f"    <!-- {name}@{version} -->\n    <script>{code}</script>"


def main(tarballs: list[str]) -> None:
    scripts = dict(inline(Path(t)) for t in tarballs)
    missing = [name for name in BUILDS if name not in scripts]
    if missing:
        raise SystemExit(f"error: no tarball given for {', '.join(missing)}")
    page = PAGE.format(scripts="\n".join(scripts[name] for name in BUILDS))
    Path(__file__).with_name("offline.html").write_text(page, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
