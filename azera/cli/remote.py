"""Commands that need memory or the model talk to the running app when there is one.

The app holds the memory stores' locks, and has the model loaded already.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx

from azera.config import get_settings
from azera.services.auth import LOCAL_TOKEN_FILE
from azera.services.startup import APP_FILE


class RunningApp:
    """The app running on this machine, reached with the local command-line token."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        """One API call; raises RuntimeError with the app's reason on a 4xx/5xx."""
        response = httpx.request(
            method, self.url + path, headers={"authorization": f"Bearer {self.token}"}, timeout=300, **kwargs
        )
        _raise_for(response)
        return response

    def events(self, path: str, body: dict) -> Iterator[tuple[str, dict]]:
        """POST and read the Server-Sent Events the app streams back: (event, data) pairs."""
        headers = {"authorization": f"Bearer {self.token}"}
        with httpx.stream("POST", self.url + path, json=body, headers=headers, timeout=300) as response:
            if response.status_code >= 400:
                response.read()
                _raise_for(response)
            kind = "message"
            for line in response.iter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    yield kind, json.loads(line.split(":", 1)[1])


def _raise_for(response: httpx.Response) -> None:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise RuntimeError(str(detail))


def running_app() -> RunningApp | None:
    """The app, if one runs for this data folder and answers; None otherwise."""
    data = get_settings().data_dir
    try:
        url = json.loads((data / APP_FILE).read_text())["url"]
        token = (data / LOCAL_TOKEN_FILE).read_text().strip()
        if httpx.get(url + "/health", timeout=2).status_code != 200:
            return None
    except (OSError, ValueError, KeyError, httpx.HTTPError):
        return None
    return RunningApp(url, token)
