"""The app's listening tests: which files each one holds, the address its link gives, and its
results so far.

Each evaluation starts a listening test (MOS + A/B, :mod:`emovc.evaluation.listening_server`)
of its run on a free port of the app's own interface, and appends the answers to
``<run folder>/listening/ratings.csv`` in the work dir. The app keeps a test's run folder and
report while the test runs, and the folders of every test with ratings for as long as it runs
(:meth:`ListeningTest.kept`); see :class:`emovc.app.server.RunningApp` for what it keeps
when it stops.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

#: bind addresses that mean "every interface": not an address a browser can open
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class ListeningTest:
    """One evaluation's listening test: ``run_dir`` (its audio and ``conversions.csv``) and
    ``report_dir`` (``report.html``, ``metrics.json``, ...), both inside the work dir."""

    run_dir: Path
    report_dir: Path

    @property
    def ratings(self) -> Path:
        """The ratings CSV the test appends to (created with the first answer)."""
        return self.run_dir / "listening" / "ratings.csv"

    def n_ratings(self) -> int:
        """Answers in :attr:`ratings` so far (rows after the header; 0 without the file)."""
        try:
            with open(self.ratings, encoding="utf-8") as f:
                return max(sum(1 for line in f if line.strip()) - 1, 0)
        except FileNotFoundError:
            return 0

    def kept(self) -> tuple[Path, Path]:
        """The folders that must outlive the work dir's purge while the test runs."""
        return self.run_dir, self.report_dir


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an IPv4/IPv6 literal) is this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def network_address() -> str:
    """This machine's address on its network: the local address of its default route (a UDP
    socket is connected, which sends nothing), else its host name."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): only the route is looked up
            address = str(s.getsockname()[0])
    except OSError:  # no route: no network
        address = ""
    return address if address and not is_loopback(address) else socket.gethostname()


def link_host(bind_host: str, browser_host: str | None = None) -> str:
    """The host a listening-test link names, for a test served on the app's ``bind_host``.

    A specific address (``127.0.0.1``, a LAN address, a host name) is the only one the test
    answers on, so it is the link's. A wildcard (``0.0.0.0``, ``::``) answers on every
    interface: the link names the host the browser reached the app by (``browser_host``,
    from its request), which the participants it is shared with can reach too — unless that
    is this machine only (``localhost``: the app opened on the machine itself), when it
    names the machine's network address (:func:`network_address`).
    """
    if bind_host not in WILDCARD_HOSTS:
        return bind_host
    if browser_host and not is_loopback(browser_host):
        return browser_host
    return network_address()


def page_url(host: str, port: int) -> str:
    """``http://host:port/`` (an IPv6 literal in brackets)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"

