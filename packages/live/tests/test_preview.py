"""Dashboard previews drawn from the dashboards' JSON and a real Prometheus holding known traffic
(conftest.TRAFFIC): assertions on the figure's artists and on pixel colours at known places.

Known truth (derived in test_e2e_main_dashboard): success rate acme 98 %, globex 80 %, acme+globex 92.857 %,
initech 100 %; workers acme 4, globex 2, initech 0; queue All 115; p95 All 105 s; error rate acme 2 %,
globex 20 %, initech 0 %.
"""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
import struct
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from matplotlib.colors import to_rgb
from matplotlib.dates import date2num

from agentmon_cli import main as cli
from agentmon_config import load_platform
from agentmon_dashboards import render_dashboards
from agentmon_live.demo import Traffic
from agentmon_live.grafana import ALL
from agentmon_live.panelrun import panel_by_title
from agentmon_live.panelstyle import GRAFANA_COLOURS, rgb
from agentmon_live.preview import data, draw
from agentmon_live.preview.panels import GAUGE_START, PALETTE
from agentmon_live.prometheus import free_loopback_port
from agentmon_simulator import Limits, default_profiles

from .conftest import prerequisite

REPO = Path(__file__).resolve().parents[3]
MAIN = json.loads((REPO / "dashboards/agentmon-system-health.json").read_text())
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
SCRAPE = "15s"
RED, YELLOW, GREEN = (GRAFANA_COLOURS[c] for c in ("red", "yellow", "green"))


def results(history, dashboard, tenants, range_seconds=3600):
    variables = data.selection(dashboard, {"tenant_id": tenants})
    return data.query_dashboard(history.server, dashboard, variables, range_seconds, history.end, SCRAPE)


def render(history, tenants=(ALL,), dashboard=MAIN):
    view = draw.View("1h", 3600, history.end, {"tenant_id": tuple(tenants)}, "known traffic")
    return draw.render(dashboard, results(history, dashboard, tenants), view)


def axes(figure, label):
    found = [ax for ax in figure.axes if ax.get_label() == label]
    assert found, f"no axes labelled {label}"
    return found


def panel_id(title):
    return panel_by_title(MAIN, title)["id"]


def rgb_at(figure, ax, xy):
    """The rendered colour (0-255 RGB) at data point `xy` of `ax`."""
    image = draw.pixels(figure)  # draws first: transforms below are the final layout
    x, y = ax.transData.transform(xy)
    return tuple(int(v) for v in image[round(image.shape[0] - y), round(x)][:3])


def close_to(actual, colour, tolerance=3):
    expected = tuple(round(c * 255) for c in to_rgb(colour))
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


@pytest.mark.e2e
def test_every_panel_is_drawn_where_its_grid_position_says(history):
    figure = render(history)
    frames = {ax.get_label(): ax.get_position() for ax in figure.axes if ax.get_label().startswith("panel:")}
    assert len(frames) == 6
    gauge, stat, queue, p95, table, workerless = (frames[f"panel:{i}"] for i in range(1, 7))
    # Top row, left to right, same top edge; second row below it.
    assert gauge.x1 < stat.x0 < stat.x1 < workerless.x0 < workerless.x1 < queue.x0
    assert gauge.y1 == pytest.approx(stat.y1) == pytest.approx(workerless.y1) == pytest.approx(queue.y1)
    assert p95.y1 < gauge.y0 and table.y1 < queue.y0 and p95.x1 < table.x0
    # Widths follow gridPos.w (6, 3, 3, 12 of 24 columns; the gap between panels is subtracted once each).
    assert queue.width == pytest.approx(2 * gauge.width, rel=0.02)
    assert stat.width == pytest.approx(workerless.width) and stat.width < gauge.width / 2
    assert gauge.x0 == pytest.approx(p95.x0) and queue.x0 == pytest.approx(table.x0)
    titles = [t for ax in figure.axes for t in ax.texts if t.get_gid() == "panel-title"]
    assert [t.get_label() for t in titles] == [p["title"] for p in MAIN["panels"]]
    # A title wider than its 3-column panel is cut with an ellipsis, and the type label gives way.
    assert [t.get_text() for t in titles] == [*(p["title"] for p in MAIN["panels"][:5]), "Tenants without an…"]
    kinds = {ax.get_label(): t.get_text() for ax in figure.axes for t in ax.texts if t.get_gid() == "panel-kind"}
    assert kinds == {"panel:1": "gauge · unit percent", "panel:3": "timeseries", "panel:4": "timeseries · unit s",
                     "panel:5": "table"}


@pytest.mark.e2e
def test_banner_says_it_is_a_preview_with_range_selection_and_time(history):
    figure = render(history, ("acme", "globex"))
    (banner,) = axes(figure, "banner")
    lines = [t.get_text() for t in banner.texts]
    assert lines[0] == "agentmon preview of AI Agents - System Health & Performance (not a Grafana screenshot)"
    end = datetime.fromtimestamp(history.end, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert lines[1:] == [f"last 1h ending {end}   ·   Tenant: acme, globex", "data: known traffic"]


@pytest.mark.e2e
@pytest.mark.parametrize(("tenants", "success", "gauge_colour", "workers", "stat_colour"), [
    (("globex",), "80.00%", RED, "2", GREEN),  # below the 90 % critical threshold
    (("acme", "globex"), "92.86%", YELLOW, "6", GREEN),  # between critical and warning (95 %)
    (("acme",), "98.00%", GREEN, "4", GREEN),  # above the warning threshold
    (("initech",), "100.00%", GREEN, "0", RED),  # no workers
], ids=lambda v: "+".join(v) if isinstance(v, tuple) else None)
def test_gauge_and_stat_take_their_threshold_colours(history, tenants, success, gauge_colour, workers, stat_colour):
    figure = render(history, tenants)
    (gauge,) = axes(figure, f"content:{panel_id('Enhancement Success Rate')}")
    (value_arc,) = [p for p in gauge.patches if p.get_gid() == "gauge-value"]
    (text,) = [t for t in gauge.texts if t.get_gid() == "gauge-text"]
    assert (text.get_text(), value_arc.get_facecolor()[:3], text.get_color()) == \
        (success, to_rgb(gauge_colour), gauge_colour)
    # The pixel on the value arc just after its start (lower left) has the threshold colour.
    angle = math.radians(GAUGE_START - 5)
    assert close_to(rgb_at(figure, gauge, (0.74 * math.cos(angle), 0.74 * math.sin(angle))), gauge_colour)
    (stat,) = axes(figure, f"content:{panel_id('Active Celery Workers')}")
    (number,) = [t for t in stat.texts if t.get_gid() == "stat-text"]
    assert number.get_text() == workers
    assert close_to(rgb_at(figure, stat, (0.05, 0.05)), stat_colour)  # colorMode background


@pytest.mark.e2e
def test_time_series_draw_the_reference_lines_at_the_configured_values_with_legends(history):
    figure = render(history)
    # (before globex's change 30 minutes ago, now): derived in test_e2e_main_dashboard
    expected = {"Pending Enhancement Jobs in Queue": (CONFIG.thresholds.queue_depth_reference, (55.0, 115.0),
                                                      "Pending jobs"),
                "p95 Enhancement Processing Latency": (CONFIG.thresholds.p95_latency_sla_seconds, (31.5, 105.0),
                                                       "p95 latency")}
    for title, (reference, (before, now), legend) in expected.items():
        (ax,) = axes(figure, f"content:{panel_id(title)}")
        (line,) = [ln for ln in ax.lines if ln.get_gid() == "threshold"]
        assert (tuple(line.get_ydata()), line.get_linestyle(), line.get_color()) == ((reference, reference), "--", RED)
        (series,) = [ln for ln in ax.lines if ln.get_gid() == "series"]
        assert len(series.get_ydata()) == 3600 // 15 + 1
        # points every 15 s: up to a minute before the change (1800 s ago), and from 135 s after it (a 60 s
        # window starting 75 s, the rules' rate window, after the change)
        values = list(series.get_ydata())
        assert values[:117] == [pytest.approx(before, rel=1e-9)] * 117
        assert values[129:] == [pytest.approx(now, rel=1e-9)] * (len(values) - 129)
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [legend]
        low, high = ax.get_ylim()
        assert low == 0 and high >= reference  # the reference line is inside the plot


def table_rows(figure):
    (ax,) = axes(figure, f"content:{panel_id('Error Rate by Tenant')}")
    cells = ax.tables[0].get_celld()
    rows = 1 + max(r for r, _ in cells)
    return [[(cells[r, c].get_text().get_text(), cells[r, c].get_facecolor()[:3]) for c in range(2)]
            for r in range(rows)]


@pytest.mark.e2e
def test_table_is_sorted_as_the_panel_says_with_threshold_coloured_cells(history):
    white = to_rgb("#FFFFFF")
    header, *rows = table_rows(render(history))
    assert [text for text, _ in header] == ["Tenant", "Error Rate %"]  # renamed by organize; Time excluded
    assert rows == [  # sortBy: Error Rate % descending; green < 1 %, yellow 1-5 %, red above
        [("globex", white), ("20.00%", to_rgb(RED))],
        [("acme", white), ("2.00%", to_rgb(YELLOW))],
        [("initech", white), ("0.00%", to_rgb(GREEN))],
    ]


@pytest.mark.e2e
@pytest.mark.parametrize(("sort", "order"), [
    ({"displayName": "Error Rate %", "desc": False}, ["initech", "acme", "globex"]),
    ({"displayName": "Tenant", "desc": False}, ["acme", "globex", "initech"]),
    ({"displayName": "Tenant", "desc": True}, ["initech", "globex", "acme"]),
])
def test_table_order_follows_sort_by_not_the_renderer(history, sort, order):
    dashboard = copy.deepcopy(MAIN)
    panel_by_title(dashboard, "Error Rate by Tenant")["options"]["sortBy"] = [sort]
    _, *rows = table_rows(render(history, dashboard=dashboard))
    assert [row[0][0] for row in rows] == order


@pytest.mark.e2e
def test_same_inputs_give_the_same_png_bytes_without_timestamps(history):
    first, second = (draw.png_bytes(render(history, ("acme", "globex"))) for _ in range(2))
    assert first == second
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and png_size(first) == (1600, round(draw.height_in(MAIN) * draw.DPI))
    assert b"tIME" not in first and b"Software" not in first and b"matplotlib" not in first


def png_size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])


@pytest.mark.e2e
def test_tenant_dashboard_without_variables_is_drawn_with_its_own_panels(history):
    dashboard = json.loads((REPO / "dashboards/globex/tenant-globex.json").read_text())
    figure = render(history, ("acme",), dashboard)  # --tenant does not apply: the dashboard has no variable
    assert len([ax for ax in figure.axes if ax.get_label().startswith("panel:")]) == len(dashboard["panels"]) == 6
    (banner,) = axes(figure, "banner")
    assert "Tenant" not in banner.texts[1].get_text()
    (gauge,) = axes(figure, f"content:{panel_by_title(dashboard, 'Success Rate vs SLO')['id']}")
    (text,) = [t for t in gauge.texts if t.get_gid() == "gauge-text"]
    assert text.get_text() == "80.00%"  # globex's known truth, red under its 95 % SLO
    (ax,) = axes(figure, f"content:{panel_by_title(dashboard, 'Processing Latency p50 / p95 / p99')['id']}")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["p50", "p95", "p99"]


@pytest.mark.e2e
def test_outcome_lines_take_their_fixed_colours_not_the_palette_order(history):
    """Prometheus returns failure before success; by palette order failure would be drawn green and success
    yellow. The panel's byName colour overrides make failure Grafana's red and success its green, in the line,
    the legend and the pixels on the line (globex's failures: 4 req/s at 20 % = 0.8 req/s over the last 30 m)."""
    dashboard = json.loads((REPO / "dashboards/globex/tenant-globex.json").read_text())
    figure = render(history, dashboard=dashboard)
    (ax,) = axes(figure, f"content:{panel_by_title(dashboard, 'Request Rate by Status')['id']}")
    lines = [line for line in ax.lines if line.get_gid() == "series"]
    assert rgb("red") == "#F2495C" and rgb("green") == "#73BF69"
    assert [(line.get_label(), line.get_color()) for line in lines] == [("failure", "#F2495C"), ("success", "#73BF69")]
    legend = ax.get_legend()
    assert [(t.get_text(), h.get_color()) for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)] == \
        [("failure", "#F2495C"), ("success", "#73BF69")]
    failure = lines[0]
    assert failure.get_ydata()[-1] == pytest.approx(0.8, rel=1e-9)
    assert close_to(rgb_at(figure, ax, (date2num(failure.get_xdata()[-20]), 0.8)), "#F2495C")
    # The latency panel has no overrides: its series keep the palette's colours, in order.
    (latency,) = axes(figure, f"content:{panel_by_title(dashboard, 'Processing Latency p50 / p95 / p99')['id']}")
    assert [line.get_color() for line in latency.lines if line.get_gid() == "series"] == list(PALETTE[:3])


# The command: files, errors, --against.

def preview(*args, root=REPO):
    return cli.main(["--root", str(root), "preview", *args])


@pytest.mark.e2e
def test_preview_writes_one_png_per_dashboard_from_any_prometheus(history, tmp_path, capsys):
    out = tmp_path / "out"
    assert preview("--prometheus", history.server.url, "--time", str(history.end),
                   "--output", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == ["agentmon-system-health.png", "agentmon-tenant-slos.png",
                                                      "tenant-acme.png", "tenant-globex.png"]
    assert png_size((out / "agentmon-system-health.png").read_bytes())[0] == 1600
    single = tmp_path / "main.png"
    assert preview("--prometheus", history.server.url, "--time", str(history.end), "--uid",
                   "agentmon-system-health", "--output", str(single)) == 0
    assert single.read_bytes() == (out / "agentmon-system-health.png").read_bytes()
    assert "preview ok: 1 picture(s)" in capsys.readouterr().out


def test_unknown_uid_is_a_one_line_error_and_writes_nothing(tmp_path, capsys):
    assert preview("--uid", "nope", "--output", str(tmp_path / "out")) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --uid nope: no dashboard with that uid under dashboards/ "
        "(known: agentmon-system-health, agentmon-tenant-slos, tenant-acme, tenant-globex)")
    assert list(tmp_path.iterdir()) == []


def test_unreachable_prometheus_is_a_one_line_error_and_writes_nothing(tmp_path, capsys):
    closed = free_loopback_port()
    assert preview("--prometheus", f"http://127.0.0.1:{closed}", "--output", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: --prometheus: cannot reach Prometheus at http://127.0.0.1:{closed}: ")
    assert "\n" not in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--prometheus", "http://x:9090", "--time", "yesterday"],
     "error: --time 'yesterday': expected RFC3339 (2026-01-01T12:00:00Z) or unix seconds"),
    (["--live", "--time", "1767268800"], "error: --time cannot be combined with --live: the live simulator has "
                                         "only the last minutes"),
    (["--live", "--prometheus", "http://x:9090"], "error: --prometheus and --live exclude each other: numbers come "
                                                  "from one place"),
    (["--prometheus", "http://x:9090", "--incident", "workers-down:acme"],
     "error: --incident needs the simulator: it cannot be combined with --prometheus"),
    (["--output", "one.png"], "error: --output one.png: a .png file holds one picture, and this preview has 4 "
                              "(choose one dashboard with --uid, or give a folder)"),
    (["--against", "no-such-revision"], "error: --against no-such-revision: not a revision of this repository"),
])
def test_bad_options_are_one_line_errors_and_write_nothing(tmp_path, capsys, args, message):
    output = [] if "--output" in args else ["--output", str(tmp_path / "out")]
    assert preview(*args, *output) == 2
    assert capsys.readouterr().err.strip() == message
    assert not (tmp_path / "out").exists() and not (REPO / "one.png").exists()


def test_missing_prometheus_binary_exits_3_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert preview("--uid", "tenant-acme", "--output", str(tmp_path / "out")) == 3
    assert capsys.readouterr().err.startswith("missing prerequisite: `prometheus` not found on PATH")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def repo(tmp_path):
    """A git repository holding the configuration and the committed dashboards."""
    git = prerequisite("git")
    for name in ("config", "tenants", "dashboards"):
        shutil.copytree(REPO / name, tmp_path / name)
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit",
                                                 "-qm", "dashboards"]):
        subprocess.run([git, *args], cwd=tmp_path, check=True)
    return tmp_path


@pytest.mark.e2e
def test_against_draws_before_and_after_of_each_changed_dashboard_only(history, repo, tmp_path_factory):
    path = repo / "dashboards/agentmon-system-health.json"
    changed = json.loads(path.read_text())
    panel_by_title(changed, "Pending Enhancement Jobs in Queue")["fieldConfig"]["defaults"]["thresholds"][
        "steps"][1]["value"] = 50
    path.write_text(json.dumps(changed))
    added = json.loads((repo / "dashboards/acme/tenant-acme.json").read_text()) | {"uid": "tenant-new"}
    (repo / "dashboards/new.json").write_text(json.dumps(added))
    # Formatting alone is no change: the globex dashboard re-indented still counts as the same.
    globex = repo / "dashboards/globex/tenant-globex.json"
    globex.write_text(json.dumps(json.loads(globex.read_text()), indent=4))
    out = tmp_path_factory.mktemp("out")
    assert preview("--against", "HEAD", "--prometheus", history.server.url, "--time", str(history.end),
                   "--output", str(out), root=repo) == 0
    assert sorted(p.name for p in out.iterdir()) == ["agentmon-system-health-vs-HEAD.png", "tenant-new-vs-HEAD.png"]
    assert png_size((out / "agentmon-system-health-vs-HEAD.png").read_bytes())[0] == 2 * 1600
    before, after = (draw.Side(board, results(history, board, (ALL,)), caption)
                     for board, caption in ((MAIN, "before: HEAD"), (changed, "after: work tree")))
    figure = draw.render_pair(before, after, draw.View("1h", 3600, history.end, {"tenant_id": (ALL,)}, "x"))
    queues = [ax for ax in figure.axes if ax.get_label() == "content:3"]
    assert [[ln.get_ydata()[0] for ln in ax.lines if ln.get_gid() == "threshold"] for ax in queues] == [[100], [50]]
    headlines = [ax.texts[0].get_text() for ax in figure.axes if ax.get_label() == "banner"]
    title = "agentmon preview of AI Agents - System Health & Performance (not a Grafana screenshot)"
    assert headlines == [f"{title}  |  before: HEAD", f"{title}  |  after: work tree"]
    # An added dashboard: the before side says so and draws no panel.
    figure = draw.render_pair(draw.Side(None, [], "not present at HEAD"), draw.Side(added, results(
        history, added, (ALL,)), "after: work tree"), draw.View("1h", 3600, history.end, {}, "x"))
    assert "not present at HEAD" in [t.get_text() for sub in figure.subfigs for t in sub.texts]
    assert len([ax for ax in figure.axes if ax.get_label().startswith("panel:")]) == len(added["panels"])


def test_against_with_nothing_changed_writes_nothing(repo, capsys):
    assert preview("--against", "HEAD", "--output", str(repo / "out"), root=repo) == 0
    assert "no dashboard differs from HEAD; nothing written" in capsys.readouterr().out
    assert not (repo / "out").exists()


SUCCESS_SHARE = ('100 * sum(increase(enhancement_requests_total{{status="success"}}[{w}])) '
                 '/ sum(increase(enhancement_requests_total[{w}]))')


@pytest.mark.e2e
def test_backfill_holds_the_simulated_traffic_and_starts_incidents_at_the_range_offset():
    prerequisite("promtool")
    limits = Limits(load_platform(REPO / "config/platform.yaml", REPO / "tenants").thresholds)
    (acme,) = default_profiles(("acme",), limits, 42)
    traffic = Traffic(tenants=("acme",), limits=limits, seed=42, noise=0.0, incidents=("failure-spike:acme@1800s",))
    end = 1767268800  # 2026-01-01T12:00:00Z; the range starts an hour earlier, the incident 30 min later
    with data.backfilled(traffic, CONFIG, 3600, end, SCRAPE) as server:
        def success(window, at):
            (sample,) = server.query(SUCCESS_SHARE.format(w=window), at=at)
            return float(sample["value"][1])

        requests = server.query("sum(increase(enhancement_requests_total[25m]))", at=end - 1815)[0]["value"][1]
        assert float(requests) == pytest.approx(acme.requests_per_second * 1500, abs=2)
        # 25 minutes before the incident: the profile's failure ratio; 25 minutes after: 25 % failures.
        assert success("25m", end - 1815) == pytest.approx(100 * (1 - acme.failure_ratio), abs=0.05)
        assert success("25m", end) == pytest.approx(75.0, abs=0.05)
        # The switch happens at the range start + 1800 s, to the scrape interval.
        assert success("1m", end - 1800 - 15) > 99
        assert success("1m", end - 1800 + 75) == pytest.approx(75.0, abs=0.5)


@pytest.mark.e2e
def test_backfilled_previews_are_the_same_bytes_every_run(tmp_path):
    prerequisite("promtool")
    prerequisite("prometheus")
    args = ["--backfill", "--time", "2026-01-01T12:00:00Z", "--tenants", "acme,globex", "--noise", "0",
            "--uid", "tenant-globex", "--incident", "latency-spike:globex@1200s"]
    assert preview(*args, "--output", str(tmp_path / "a.png")) == 0
    assert preview(*args, "--output", str(tmp_path / "b.png")) == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


@pytest.mark.e2e
def test_live_preview_runs_the_simulator_live_and_waits_for_data(tmp_path):
    prerequisite("prometheus")
    out = tmp_path / "acme.png"
    assert preview("--live", "--uid", "tenant-acme", "--tenants", "acme", "--noise", "0", "--range", "5m",
                   "--output", str(out)) == 0
    assert png_size(out.read_bytes())[0] == 1600


def test_the_default_preview_backfills_the_whole_range_so_it_needs_promtool(tmp_path, capsys):
    """Live, the default hour held about 30 s of data and blank latency panels: the default now backfills."""
    prerequisite("prometheus")
    only_prometheus = tmp_path / "bin"
    only_prometheus.mkdir()
    (only_prometheus / "prometheus").symlink_to(shutil.which("prometheus"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", str(only_prometheus))
        assert preview("--uid", "tenant-acme", "--output", str(tmp_path / "out")) == 3
    assert capsys.readouterr().err.startswith("missing prerequisite: `promtool` not found on PATH")
    assert not (tmp_path / "out").exists()


def panel_texts(figure, title, gid):
    return [t.get_text() for ax in axes(figure, f"content:{panel_id(title)}") for t in ax.texts if t.get_gid() == gid]


@pytest.mark.e2e
def test_backfilled_main_dashboard_has_numbers_in_every_panel_from_the_recorded_series():
    # Regression: the dashboards read recorded series, which a raw-only backfill lacks: every panel said No data.
    prerequisite("promtool")
    tenants = ("acme", "globex", "initech")
    limits = Limits(CONFIG.thresholds, CONFIG.tenants)
    profiles = default_profiles(tenants, limits, 42)
    traffic = Traffic(tenants=tenants, limits=limits, seed=42, noise=0.0)
    end = 1767268800
    with data.backfilled(traffic, CONFIG, 3600, end, SCRAPE) as server:
        variables = data.selection(MAIN, {})
        figure = draw.render(MAIN, data.query_dashboard(server, MAIN, variables, 3600, end, SCRAPE),
                             draw.View("1h", 3600, end, {"tenant_id": (ALL,)}, "backfilled"))
    assert "No data" not in [t.get_text() for ax in figure.axes for t in ax.texts]
    requests = sum(p.requests_per_second for p in profiles)
    success = 100 * (1 - sum(p.requests_per_second * p.failure_ratio for p in profiles) / requests)
    (gauge,) = panel_texts(figure, "Enhancement Success Rate", "gauge-text")
    assert float(gauge.rstrip("%")) == pytest.approx(success, abs=0.1)  # whole failures per tick: not exact
    assert panel_texts(figure, "Active Celery Workers", "stat-text") == [str(sum(p.active_workers for p in profiles))]
    assert panel_texts(figure, "Tenants without an active worker", "stat-text") == ["0"]
    # Every point of the hour, from the range's first: the warm-up covers the rules' and the panels' windows.
    (queue,) = axes(figure, f"content:{panel_id('Pending Enhancement Jobs in Queue')}")
    (line,) = [ln for ln in queue.lines if ln.get_gid() == "series"]
    assert list(line.get_ydata()) == [sum(p.queue_depth for p in profiles)] * (3600 // 15 + 1)
    (p95,) = axes(figure, f"content:{panel_id('p95 Enhancement Processing Latency')}")
    (line,) = [ln for ln in p95.lines if ln.get_gid() == "series"]
    assert len(line.get_ydata()) == 3600 // 15 + 1 and all(0 < v < 60 for v in line.get_ydata())
    _, *rows = table_rows(figure)
    assert sorted(row[0][0] for row in rows) == sorted(tenants)
    assert all(re.fullmatch(r"0\.\d\d%", row[1][0]) for row in rows)


@pytest.mark.e2e
def test_live_simulator_loads_the_recording_rules_the_dashboards_read():
    prerequisite("prometheus")
    limits = Limits(CONFIG.thresholds, CONFIG.tenants)
    traffic = Traffic(tenants=("acme",), limits=limits, noise=0.0)
    (acme,) = default_profiles(("acme",), limits, 42)
    with data.live_simulator(REPO, traffic, CONFIG) as server:
        variables = data.selection(MAIN, {})
        deadline = time.monotonic() + 60
        while not data.complete(results := data.query_dashboard(server, MAIN, variables, 300, time.time(),
                                                                data.LIVE_SCRAPE)):
            assert time.monotonic() < deadline, "no number in some panel within 60 s"
            time.sleep(1)
    by_title = {panel["title"]: result for panel, result in zip(MAIN["panels"], results, strict=True)}
    (workers,) = by_title["Active Celery Workers"].series
    assert [v for v in workers.values if not math.isnan(v)][-1] == acme.active_workers


def _drawn_timeseries(series):
    from matplotlib.figure import Figure

    from agentmon_live.panelrun import Series
    from agentmon_live.preview.panels import Box, Span, timeseries

    panel = panel_by_title(json.loads((REPO / "dashboards/agentmon-system-health.json").read_text()),
                           "p95 Enhancement Processing Latency")
    figure = Figure(figsize=(8, 4))
    timeseries(figure, Box(0, 0, 1, 1, 8, 4), panel, [Series({}, v, t, "A") for t, v in series], Span(0, 1200))
    (ax,) = figure.axes
    return ax


def test_a_value_without_neighbours_is_a_point_and_a_gap_is_not_joined_as_grafana_draws_them():
    """Values every 60 s, then a missing step before 600 and 900: the line stops at 120; 600 and 900, each alone,
    are points (a one-value line is invisible); no "No data" note, since there is data."""
    ax = _drawn_timeseries([([0, 60, 120, 600, 900], [5.0, 6.0, 7.0, 9.0, 4.0])])
    (line,) = [ln for ln in ax.lines if ln.get_gid() == "series"]
    ys = list(line.get_ydata())
    assert ys[:3] == [5.0, 6.0, 7.0] and math.isnan(ys[3]) and ys[4] == 9.0 and math.isnan(ys[5]) and ys[6] == 4.0
    (points,) = [ln for ln in ax.lines if ln.get_gid() == "series-point"]
    assert list(points.get_ydata()) == [9.0, 4.0]
    assert "No data" not in [t.get_text() for t in ax.texts]


def test_a_single_value_is_drawn_as_a_point_and_no_values_say_no_data():
    ax = _drawn_timeseries([([600], [12.0])])
    (points,) = [ln for ln in ax.lines if ln.get_gid() == "series-point"]
    assert list(points.get_ydata()) == [12.0] and "No data" not in [t.get_text() for t in ax.texts]
    assert [t.get_text() for t in _drawn_timeseries([]).texts] == ["No data"]


def test_a_preview_backfills_as_many_rule_levels_as_its_dashboards_read():
    """The main and tenant dashboards read the first level only; the Tenant SLOs dashboard reads the SLO metadata,
    recorded in the fifth (agentmon_live.rules.rule_levels), so its preview backfills every level."""
    boards = render_dashboards(CONFIG)
    main, tenant, slos = (boards[n] for n in ("agentmon-system-health.json", "acme/tenant-acme.json",
                                              "agentmon-tenant-slos.json"))
    assert data.levels_read([main, tenant], CONFIG, SCRAPE) == 1
    assert data.levels_read([slos], CONFIG, SCRAPE) == 5
    assert data.levels_read([main, slos], CONFIG, SCRAPE) == 5


@pytest.mark.e2e
def test_history_goes_to_promtool_one_file_per_two_hour_block_and_every_sample_arrives(tmp_path):
    """promtool reads its whole input once per 2-hour block: a file per block. 2026-01-01T10:00:00Z is a block
    boundary (1767261600 = 245,453 x 7,200); 2 minutes before it to 2 hours 1 minute after, at 60 s, are 2 scrapes
    in the first block, 120 in the second, 2 in the third."""
    promtool = prerequisite("promtool")
    limits = Limits(load_platform(REPO / "config/platform.yaml", REPO / "tenants").thresholds)
    traffic = Traffic(tenants=("acme",), limits=limits, seed=42, noise=0.0, incidents=())
    boundary, first, last = 1767261600, 1767261600 - 120, 1767261600 + 7260
    blocks = list(data._blocks(data.shifted(traffic, shift=0), first, last, 60, 60.0))
    assert [(number, len(families["# TYPE queue_depth gauge\n"])) for number, families in blocks] == [
        (245452, 2), (245453, 120), (245454, 2)]
    written = sum(len(lines) for _, families in blocks for lines in families.values())
    data.import_openmetrics(data.shifted(traffic, shift=0), first, last, 60, tmp_path / "data", promtool,
                            tick_seconds=60.0)
    metas = sorted((json.loads(p.read_text()) for p in (tmp_path / "data").glob("*/meta.json")),
                   key=lambda meta: meta["minTime"])
    assert [meta["minTime"] // 1000 for meta in metas] == [first, boundary, boundary + 7200]
    assert sum(meta["stats"]["numSamples"] for meta in metas) == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # the per-block files are gone
