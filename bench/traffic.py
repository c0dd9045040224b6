"""The benchmarks' traffic: single HTTP requests, wrk runs, and a headless browser."""

import html.parser
import http.client
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# --- HTTP ----------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body, seconds):
        self.status, self.headers, self.body, self.seconds = (
            status,
            headers,
            body,
            seconds,
        )

    def text(self):
        return self.body.decode("utf-8", errors="replace")


def get(url, headers=None, timeout=600):
    """One GET (no redirect followed), with the time to the last byte."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    started = time.perf_counter()
    try:
        conn.request("GET", path or "/", headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return Response(
            response.status,
            dict(response.getheaders()),
            body,
            time.perf_counter() - started,
        )
    finally:
        conn.close()


def save(url, path, chunk=64 * 1024):
    """(seconds, bytes) for a streamed GET written to `path`; anything but 200 raises."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=1800)
    started, size = time.perf_counter(), 0
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"GET {url}: {response.status} {response.read(500)!r}")
        with open(path, "wb") as out:
            while block := response.read(chunk):
                size += out.write(block)
    finally:
        conn.close()
    return time.perf_counter() - started, size


# --- A signed-in person's requests (bench/load.py's editors) -------------------


class Browser:
    """One signed-in person: a connection, cookies and CSRF, no redirect followed."""

    def __init__(self, base):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port, self.cookies = parts.hostname, parts.port, {}
        self.conn = None

    def request(self, method, path, fields=None, timeout=300):
        body = urllib.parse.urlencode(fields, doseq=True) if fields is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{self.host}:{self.port}{path}"
        for attempt in range(2):  # a kept-alive connection the server closed: reconnect once
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (
                http.client.RemoteDisconnected,
                ConnectionResetError,
                BrokenPipeError,
            ):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return (
            response.status,
            response.getheader("Location", ""),
            data.decode("utf-8", "replace"),
        )

    def sign_in(self, username, password):
        status, _, page = self.request("GET", "/accounts/login/")
        form = find_form(page, "username")
        if status != 200 or form is None:
            raise RuntimeError(f"login page: {status}")
        fields = dict(form["fields"], username=username, password=password)
        status, _, _ = self.request("POST", form["action"] or "/accounts/login/", fields)
        if status != 302:
            raise RuntimeError(f"sign-in of {username} answered {status}")


class FormParser(html.parser.HTMLParser):
    """The POST forms of a page: action and the values a browser would submit."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.form, self.select, self.textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.form = {"action": a.get("action", ""), "fields": {}, "names": []}
            self.forms.append(self.form)
        if self.form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(name, a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select" and name:
            self.select = {
                "name": name,
                "chosen": None,
                "first": None,
                "multiple": "multiple" in a,
            }
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in a:
                self.select["chosen"] = value
                if self.select["multiple"]:
                    self._add(self.select["name"], value)
        elif tag == "textarea" and name:
            self.textarea = [name, ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self.select is not None:
            s = self.select
            if not s["multiple"]:
                chosen = s["chosen"] if s["chosen"] is not None else s["first"]
                if chosen is not None:
                    self._add(s["name"], chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            self._add(name, text.removeprefix("\n"))
            self.textarea = None
        elif tag == "form":
            self.form = None

    def _add(self, name, value):
        fields = self.form["fields"]
        if name in fields:
            existing = fields[name]
            fields[name] = (existing if isinstance(existing, list) else [existing]) + [value]
        else:
            fields[name] = value


def find_form(page, field):
    parser = FormParser()
    parser.feed(page)
    return next((form for form in parser.forms if field in form["fields"]), None)


# --- wrk -----------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
SIZES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def _ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def parse_wrk(output):
    """Requests/s, latency percentiles (ms), request and error counts from `wrk --latency`."""
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    result.update(p50_ms=None, p75_ms=None, p90_ms=None, p99_ms=None)
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE):
        result[f"p{pct}_ms"] = round(_ms(value), 3)
    if result["p99_ms"] is None:
        result["wrk_output"] = output[-1500:]
    m = re.search(r"(\d+) requests in ([\d.]+\w+), ([\d.]+)(\w+) read", output)
    result["requests"] = int(m.group(1))
    result["seconds"] = round(_ms(m.group(2)) / 1000, 2)
    result["bytes_read"] = int(float(m.group(3)) * SIZES[m.group(4)])
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx_3xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = sum(int(g) for g in m.groups()) if m else 0
    return result


# What every browser sends: without it, a page goes out as plain text, and a run measures
# how fast 360 KB of dashboard crosses the loopback rather than the app.
BROWSER_HEADERS = ("Accept-Encoding: gzip, deflate",)


def wrk_command(url, duration, connections=16, threads=2, script=None, headers=()):
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "60s",
    ]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", str(script)]
    return command + [url]


def wrk(url, duration, connections=16, threads=2, headers=()):
    out = subprocess.run(
        wrk_command(url, duration, connections, threads, headers=headers),
        capture_output=True,
        text=True,
        timeout=duration + 120,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"wrk failed on {url}: {out.stderr.strip()}")
    return parse_wrk(out.stdout)


def drain(base, quick=0.1, limit=600):
    """Wait until the server has worked through requests queued by an earlier wrk run.

    wrk abandons its connections at the end, but sync workers still answer every
    request already queued; those would eat into the next measurement. /healthz
    waits in the same queue, so once it answers quickly the queue is empty.
    """
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if get(base + "/healthz").seconds < quick:
            return True
    return False


def check_page(url, expect=200):
    """One GET that must answer `expect` (wrk counts redirects as successes, so check first)."""
    response = get(url)
    if response.status != expect:
        raise RuntimeError(f"GET {url} answered {response.status}, not {expect}: {response.text()[:300]}")
    return response


# --- Browser ---------------------------------------------------------------------


def _launch_chromium(playwright):
    """Debian's Chromium with the same flags as the browser tests (tests/browser.py)."""
    sys.path.insert(0, str(ROOT))
    from tests.browser import launch

    return launch(playwright)


def browser_bytes(url, settle=1.0, limit=30.0):
    """Bytes on the wire (headers included) for a cold and then a warm load of `url`.

    Counted from the DevTools protocol's Network.loadingFinished encodedDataLength,
    for every response of the page, including what scripts fetch after the load
    event: each load waits until no request has been in flight for `settle` seconds.
    Warm is a second navigation in the same context, so the HTTP cache answers
    whatever its headers allow.
    """
    from playwright.sync_api import sync_playwright

    requests = {}  # requestId -> {"phase", "url", "bytes", "done"}
    phase = {"name": None}

    def started(event):
        requests[event["requestId"]] = {
            "phase": phase["name"],
            "url": event["request"]["url"],
            "bytes": 0,
            "done": False,
        }

    def finished(event, failed=False):
        entry = requests.get(event["requestId"])
        if entry:
            entry["done"] = True
            entry["bytes"] = 0 if failed else int(event.get("encodedDataLength", 0))
            entry["failed"] = failed

    result = {}
    with sync_playwright() as p:
        browser = _launch_chromium(p)
        try:
            context = browser.new_context()
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.on("Network.requestWillBeSent", started)
            cdp.on("Network.loadingFinished", finished)
            cdp.on("Network.loadingFailed", lambda e: finished(e, failed=True))
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "console",
                lambda m: errors.append(m.text) if m.type == "error" else None,
            )
            for name in ("cold", "warm"):
                phase["name"] = name
                page.goto(url, wait_until="load")
                quiet_since, deadline = time.monotonic(), time.monotonic() + limit
                while time.monotonic() < deadline:
                    page.wait_for_timeout(100)
                    if any(not r["done"] for r in requests.values()):
                        quiet_since = time.monotonic()
                    elif time.monotonic() - quiet_since >= settle:
                        break
                mine = [r for r in requests.values() if r["phase"] == name]
                result[name] = {
                    "bytes": sum(r["bytes"] for r in mine),
                    "responses": len(mine),
                    "failed": [r["url"] for r in mine if r.get("failed")],
                    "largest": [
                        {"bytes": r["bytes"], "url": r["url"]}
                        for r in sorted(mine, key=lambda r: -r["bytes"])[:6]
                    ],
                }
            result["page_errors"] = errors[:5]
        finally:
            browser.close()
    return result
