"""`agentmon preview`: which dashboards, which numbers, which files.

Everything is checked and drawn in memory first; files are written only when every picture is ready, each
atomically, so bad input or an unreachable Prometheus leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from agentmon_config import PlatformConfig
from agentmon_live.demo import Traffic
from agentmon_live.grafana import ALL, seconds
from agentmon_live.preview import data, draw
from agentmon_live.preview.panels import PanelResult
from agentmon_live.prometheus import PrerequisiteMissing, PrometheusClient, PrometheusUnreachable
from agentmon_live.rules import BackfillError
from agentmon_simulator import parse_incident

DASHBOARDS = Path("dashboards")
DEFAULT_OUTPUT = Path("build/previews")
TENANT_VARIABLE = "tenant_id"
LIVE_WAIT_SECONDS = 90.0


class PreviewError(ValueError):
    """Bad input or an unusable data source: one line naming the option; the command exits 2."""


@dataclass(frozen=True)
class Request:
    traffic: Traffic
    config: PlatformConfig  # the datasource's scrape interval ($__interval's floor); the recording rules
    uids: tuple[str, ...] = ()  # empty: every dashboard
    prometheus: str | None = None  # a URL; None: the simulator with a local Prometheus
    backfill: bool = False
    range_text: str = "1h"
    tenants: tuple[str, ...] = (ALL,)
    time: str | None = None  # RFC3339 or unix seconds; None: now
    output: Path = DEFAULT_OUTPUT
    against: str | None = None

    @property
    def scrape_interval(self) -> str:
        return self.config.datasource.scrape_interval


@dataclass(frozen=True)
class Picture:
    """One PNG to write: a dashboard, or a before/after pair."""

    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    pair: bool


def preview(root: Path, request: Request) -> list[Path]:
    """Draw the requested dashboards and write the PNGs; return the files written."""
    range_seconds, end = _range(request.range_text), _end(request)
    _check_source(request)
    pictures = _pictures(root, request)
    targets = _targets(root, request, pictures)
    if not pictures:
        return []
    boards = [board for picture in pictures for board in (picture.before, picture.after) if board is not None]
    with _stop_on_sigterm(), _source(root, request, range_seconds, end, boards) as (client, source):
        drawn = _draw_all(client, pictures, request, range_seconds, end, source)
    written = []
    for target, png in zip(targets, drawn, strict=True):
        _write_atomically(target, png)
        written.append(target)
    return written


def _range(text: str) -> float:
    try:
        return seconds(text)
    except ValueError:
        raise PreviewError(f"--range {text!r}: expected a duration such as 15m, 1h, 6h, 7d") from None


def _end(request: Request) -> float | None:
    """The range end, unix seconds; None: the moment the numbers are read."""
    text = request.time
    if text is None:
        return None
    if not (request.prometheus or request.backfill):
        raise PreviewError("--time cannot be combined with --live: the live simulator has only the last minutes")
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PreviewError(f"--time {text!r}: expected RFC3339 (2026-01-01T12:00:00Z) or unix seconds") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _check_source(request: Request) -> None:
    if request.prometheus and request.backfill:
        raise PreviewError("--prometheus and --backfill exclude each other: numbers come from one place")
    if request.prometheus and request.traffic.incidents:
        raise PreviewError("--incident needs the simulator: it cannot be combined with --prometheus")
    if request.prometheus and not re.match(r"^https?://[^/\s]+", request.prometheus):
        raise PreviewError(f"--prometheus {request.prometheus!r}: expected a URL such as http://localhost:9090")


def _pictures(root: Path, request: Request) -> list[Picture]:
    current = load_dashboards(root)
    if request.against is None:
        _check_uids(request.uids, current, "under dashboards/")
        return [Picture(uid, None, board, pair=False) for uid, board in current.items()
                if not request.uids or uid in request.uids]
    old = dashboards_at(root, request.against)
    _check_uids(request.uids, {**old, **current}, f"under dashboards/ or at {request.against}")
    changed = [uid for uid in sorted({*old, *current}) if old.get(uid) != current.get(uid)]
    return [Picture(f"{uid}-vs-{_safe(request.against)}", old.get(uid), current.get(uid), pair=True)
            for uid in changed if not request.uids or uid in request.uids]


def _check_uids(uids: tuple[str, ...], known: dict[str, Any], where: str) -> None:
    unknown = [uid for uid in uids if uid not in known]
    if unknown:
        raise PreviewError(f"--uid {', '.join(unknown)}: no dashboard with that uid {where} "
                           f"(known: {', '.join(sorted(known))})")


def load_dashboards(root: Path) -> dict[str, dict[str, Any]]:
    """uid -> dashboard JSON, for every dashboard file of the work tree."""
    boards = {}
    for path in sorted((root / DASHBOARDS).rglob("*.json")):
        board = _parse(path.read_text(), path.relative_to(root).as_posix())
        boards[board["uid"]] = board
    return boards


def dashboards_at(root: Path, rev: str) -> dict[str, dict[str, Any]]:
    """uid -> dashboard JSON, for every dashboard file at git revision `rev`."""
    _git(root, rev, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    listed = _git(root, rev, "ls-tree", "-r", "--name-only", rev, "--", DASHBOARDS.as_posix()).splitlines()
    boards = {}
    for path in sorted(p for p in listed if p.endswith(".json")):
        board = _parse(_git(root, rev, "show", f"{rev}:./{path}"), f"{rev}:{path}")
        boards[board["uid"]] = board
    return boards


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        board = json.loads(text)
    except ValueError as exc:
        raise PreviewError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(board, dict) or not board.get("uid"):
        raise PreviewError(f"{where}: uid: a dashboard needs a uid")
    return board


def _git(root: Path, rev: str, *args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise PrerequisiteMissing("`git` not found on PATH: --against reads the old dashboards with git")
    done = subprocess.run([git, *args], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["not a revision of this repository"])[-1]
        raise PreviewError(f"--against {rev}: {reason}")
    return done.stdout


def _safe(rev: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", rev).strip("_") or "rev"


def _targets(root: Path, request: Request, pictures: list[Picture]) -> list[Path]:
    output = request.output if request.output.is_absolute() else root / request.output
    if output.suffix == ".png":
        if len(pictures) != 1:
            raise PreviewError(f"--output {request.output}: a .png file holds one picture, and this preview "
                               f"has {len(pictures)} (choose one dashboard with --uid, or give a folder)")
        return [output]
    return [output / f"{picture.name}.png" for picture in pictures]


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the local Prometheus and the simulator are stopped, not orphaned."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _source(root: Path, request: Request, range_seconds: float, end: float | None,
            boards: list[dict[str, Any]]) -> Iterator[tuple[PrometheusClient, str]]:
    traffic = request.traffic
    settings = [f"profile {traffic.profile}" if traffic.profile else f"tenants {', '.join(traffic.tenants)}",
                f"seed {traffic.seed}", f"noise {traffic.noise:g}"]
    incidents = [f"incidents {', '.join(traffic.incidents)}"] if traffic.incidents else []
    simulated = f"agentmon simulator ({'; '.join(settings + incidents)})"
    if request.prometheus:
        client = PrometheusClient(request.prometheus)
        try:
            client.query("1")
        except PrometheusUnreachable as exc:
            raise PreviewError(f"--prometheus: {exc}") from None
        yield client, f"Prometheus at {client.url}"
    elif request.backfill:
        moment = time.time() if end is None else end
        with ExitStack() as stack:
            try:
                levels = data.levels_read(boards, request.config, request.scrape_interval)
                server = stack.enter_context(data.backfilled(traffic, request.config, range_seconds, moment,
                                                             request.scrape_interval, levels))
            except BackfillError as exc:
                raise PreviewError(f"--backfill: {exc}") from None
            yield server, f"{simulated}, backfilled"
    else:
        with data.live_simulator(root, traffic, request.config) as server:
            yield server, f"{simulated}, scraped live"


def _draw_all(client: PrometheusClient, pictures: list[Picture], request: Request, range_seconds: float,
              end: float | None, source: str) -> list[bytes]:
    live = not (request.prometheus or request.backfill)
    scrape = data.LIVE_SCRAPE if live else request.scrape_interval
    # Live: numbers after the first scrapes, an incident's only once it started and filled a rate window.
    ready_at = time.monotonic() + (_latest_incident(request.traffic) if live else 0)
    deadline = ready_at + (LIVE_WAIT_SECONDS if live else 0)
    while True:
        moment = time.time() if end is None else end
        results = {id(board): _query(client, board, request, range_seconds, moment, scrape)
                   for picture in pictures for board in (picture.before, picture.after) if board is not None}
        complete = all(data.complete(r) for r in results.values())
        if (complete and time.monotonic() >= ready_at) or time.monotonic() >= deadline:
            break
        time.sleep(2)
    view = draw.View(request.range_text, range_seconds, moment, _chosen(request), source)
    return [draw.png_bytes(_figure(picture, results, view, request.against)) for picture in pictures]


def _latest_incident(traffic: Traffic) -> float:
    """Live mode waits for the last incident to start and fill a rate window."""
    if not traffic.incidents:
        return 0.0
    last_start = max(parse_incident(i, traffic.limits).after_seconds for i in traffic.incidents)
    return last_start + 4 * seconds(data.LIVE_SCRAPE)


def _chosen(request: Request) -> dict[str, tuple[str, ...]]:
    return {TENANT_VARIABLE: request.tenants}


def _query(client: PrometheusClient, board: dict[str, Any], request: Request, range_seconds: float, end: float,
           scrape: str) -> list[PanelResult]:
    variables = data.selection(board, _chosen(request))
    try:
        return data.query_dashboard(client, board, variables, range_seconds, end, scrape)
    except PrometheusUnreachable as exc:
        raise PreviewError(f"--prometheus: {exc}") from None


def _figure(picture: Picture, results: dict[int, list[PanelResult]], view: draw.View, rev: str | None) -> Figure:
    def side(board: dict[str, Any] | None, caption: str, missing: str) -> draw.Side:
        return draw.Side(board, results.get(id(board), []), caption if board else missing)

    if not picture.pair:
        return draw.render(picture.after, results[id(picture.after)], view)
    return draw.render_pair(side(picture.before, f"before: {rev}", f"not present at {rev}"),
                            side(picture.after, "after: work tree", "removed in the work tree"), view)


def _write_atomically(target: Path, png: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(png)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the picture from everyone else
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

