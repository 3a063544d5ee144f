"""Download a Kaggle dataset's zip with the official `kaggle` client.

The client prints help and calls exit(1) when it finds no credentials, and raises raw `requests`
errors otherwise; this module turns each failure into one FetchError sentence the user can act on.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
import urllib3

from expressions.core.errors import FetchError

CREDENTIALS = (
    "KAGGLE_API_TOKEN, ~/.kaggle/access_token, KAGGLE_USERNAME with KAGGLE_KEY, "
    "or kaggle.json in $KAGGLE_CONFIG_DIR, ~/.kaggle or ~/.config/kaggle"
)


def download(slug: str, folder: Path) -> tuple[Path, int | None]:
    """Download `slug` ("owner/name" or "owner/name/version") as a zip into `folder`.

    The current version is looked up first and then asked for by number, so the version returned
    is the one whose bytes were downloaded even if the owner publishes a new one meanwhile.
    """
    owner, name, version = _parse(slug)
    api = _client(slug)
    with _explained(slug):
        if version is None:
            version = _current_version(api, f"{owner}/{name}")
        pinned = f"{owner}/{name}" + (f"/{version}" if version is not None else "")
        api.dataset_download_files(pinned, path=str(folder), force=True, quiet=False)
    return folder / f"{name}.zip", version


def _parse(slug: str) -> tuple[str, str, int | None]:
    parts = slug.split("/")
    if len(parts) not in (2, 3) or not all(parts) or (len(parts) == 3 and not parts[2].isdigit()):
        raise FetchError(
            f"{slug!r} is not a Kaggle dataset slug: expected owner/name or owner/name/version."
        )
    return parts[0], parts[1], int(parts[2]) if len(parts) == 3 else None


def _client(slug: str) -> Any:
    """An authenticated KaggleApi; its import-time login attempt and help text stay quiet."""
    with contextlib.redirect_stdout(io.StringIO()), _explained(slug):
        try:
            from kaggle.api.kaggle_api_extended import KaggleApi
        except ImportError as e:
            raise FetchError(
                f"Cannot download {slug!r}: the kaggle package is missing ({e})."
            ) from e
        api = KaggleApi()
        try:
            api.authenticate()
        except SystemExit:
            raise FetchError(
                f"No valid Kaggle credentials to download {slug!r}: the client reads {CREDENTIALS}."
            ) from None
    return api


def _current_version(api: Any, slug: str) -> int | None:
    status = json.loads(api.dataset_status(slug, format="json(current_version_number)"))
    version = status.get("current_version_number")
    return int(version) if version else None


@contextlib.contextmanager
def _explained(slug: str) -> Iterator[None]:
    """Turn the client's exceptions into one sentence each."""
    try:
        yield
    except requests.HTTPError as e:
        raise FetchError(_http_sentence(slug, e)) from e
    except (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError) as e:
        raise FetchError(
            f"Cannot reach Kaggle to download {slug!r}: no network connection "
            "(check the internet access and any proxy settings)."
        ) from e
    except (requests.RequestException, ValueError, OSError) as e:
        raise FetchError(f"Downloading {slug!r} from Kaggle failed: {e}.") from e
    except SystemExit as e:
        raise FetchError(f"The Kaggle client gave up on {slug!r} (exit status {e.code}).") from e


def _http_sentence(slug: str, error: requests.HTTPError) -> str:
    status = error.response.status_code if error.response is not None else None
    if status == 404:
        return f"Kaggle has no dataset {slug!r} (HTTP 404): check the slug in params.yaml."
    if status in (401, 403):
        return (
            f"Kaggle refused access to {slug!r} (HTTP {status}): check the credentials "
            f"({CREDENTIALS}) and accept the dataset's terms on its Kaggle page."
        )
    return f"Kaggle answered HTTP {status} for {slug!r}: try again later."
