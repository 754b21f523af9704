"""`agentmon report` on a known history: two days across a month boundary (2026-10-31 and 2026-11-01, UTC), a
sample every 15 s, backfilled with promtool into a real Prometheus on loopback. Every expected number is worked
out by hand below from the traffic tables, never read from the code under test.

Traffic, per 15 s scrape (a scrape at t counts the requests of (t - 15 s, t]):
- north (SLO 99.9 %: budget 0.001; SLA 60 s): 10 requests, 9 of them within 60 s. Failures: Oct 31 22:00-22:01
  and 23:59-Nov 1 00:00: 1 per scrape (4 + 4); Nov 1 10:00-10:05: 5 per scrape (20 scrapes: 100); 18:30-18:32: 1
  per scrape (8); one scrape at 20:00:15: 2; one at 21:00:15: 1. Its counters restart at Nov 1 12:00:00 (a reset).
- south (SLO 97 %: budget 0.03; SLA 180 s): 25 requests (100 a minute), 24 within 180 s (20 within the platform's
  120 s), 3 failures in the first scrape of every minute (exactly the budget, every minute), and one more at Oct 31
  12:00:30 (4 in that minute: just above).
- east (SLO 99.5 %, SLA 30 s): 2 requests, 1 within 30 s, never a failure (no failure series at all).
- quiet (SLO 99 %): configured, never reported.
Counters start at 1000 at Oct 31 00:00:00, the first sample (which counts nothing: the history before it is
unknown).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from agentmon_alertkit import TENANTS, make_config

from agentmon_cli import main as cli
from agentmon_live.preview.chart import DailyPanel, daily_chart
from agentmon_live.prometheus import PrometheusServer, free_loopback_port
from agentmon_live.report.figures import Month
from agentmon_testkit import Blocks, add_sample, import_openmetrics, prerequisite

OCT31 = int(datetime(2026, 10, 31, tzinfo=UTC).timestamp())
NOV1 = OCT31 + 86400
NOV2 = NOV1 + 86400
SCRAPE = 15
MINUTE, HOUR = 60, 3600
BOUNDS = ("30", "60", "120", "180", "+Inf")
BASE = 1000
RESET = NOV1 + 12 * HOUR  # north's counters restart here

TENANT_FILES = {
    **TENANTS,
    "east": {"display_name": "East", "success_rate_slo": 99.5, "p95_latency_sla_seconds": 30,
             "queue_alert_threshold": 50, "owner_contact": "east-oncall@example.com"},
    "quiet": {"display_name": "Quiet", "success_rate_slo": 99, "p95_latency_sla_seconds": 120,
              "queue_alert_threshold": 50, "owner_contact": "quiet-oncall@example.com"},
}


def _in(t: int, start: int, minutes: float) -> bool:
    """Whether the scrape at t counts requests of [start, start + minutes)."""
    return start < t <= start + minutes * MINUTE


def north_failures(t: int) -> int:
    if _in(t, NOV1 + 10 * HOUR, 5):
        return 5
    if _in(t, NOV1 + 18 * HOUR + 30 * MINUTE, 2) or _in(t, OCT31 + 22 * HOUR, 1) or _in(t, NOV1 - MINUTE, 1):
        return 1
    return {NOV1 + 20 * HOUR + 15: 2, NOV1 + 21 * HOUR + 15: 1}.get(t, 0)


def south_failures(t: int) -> int:
    return (3 if t % MINUTE == 15 else 0) + (1 if t == OCT31 + 12 * HOUR + 30 else 0)


# tenant -> (requests per scrape, failures at t or None (no failure series), observations per scrape at or below
# each bound of BOUNDS)
TRAFFIC = {
    "north": (10, north_failures, (5, 9, 10, 10, 10)),
    "south": (25, south_failures, (10, 15, 20, 24, 25)),
    "east": (2, None, (1, 2, 2, 2, 2)),
}


def _series(tenant: str) -> Iterator[tuple[str, str, object]]:
    """(family, series, increment at t) for each series of a tenant."""
    per_scrape, failures, within = TRAFFIC[tenant]
    labels = f'instance="app:8000",job="agentmon",tenant_id="{tenant}"'
    fails = failures or (lambda t: 0)
    yield "enhancement_requests", f'enhancement_requests_total{{{labels},status="success"}}', \
        lambda t: per_scrape - fails(t)
    if failures:
        yield "enhancement_requests", f'enhancement_requests_total{{{labels},status="failure"}}', failures
    for bound, count in zip(BOUNDS, within, strict=True):
        yield "enhancement_duration_seconds", f'enhancement_duration_seconds_bucket{{{labels},le="{bound}"}}', \
            lambda t, c=count: c


def _values(tenant: str, increment) -> Iterator[tuple[int, int]]:
    value = BASE
    for t in range(OCT31, NOV2 + 1, SCRAPE):
        if t > OCT31:
            value = increment(t) if tenant == "north" and t == RESET else value + increment(t)
        yield t, value


def history_blocks() -> Blocks:
    blocks: Blocks = {}
    kinds = {"enhancement_requests": "counter", "enhancement_duration_seconds": "histogram"}
    for tenant in TRAFFIC:
        for family, name, increment in _series(tenant):
            for t, v in _values(tenant, increment):
                add_sample(blocks, f"# TYPE {family} {kinds[family]}\n", f"{name} {v} {t}\n", t)
    return blocks


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    promtool = prerequisite("promtool")
    prerequisite("prometheus")
    work = tmp_path_factory.mktemp("report-history")
    import_openmetrics(promtool, history_blocks(), work / "openmetrics", work / "data")
    config = work / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: {SCRAPE}s\nscrape_configs: []\n")
    with PrometheusServer(config_file=config, storage=work / "data") as server:
        yield server


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report-project")
    make_config(root, TENANT_FILES)
    return root


def report(project: Path, prometheus: PrometheusServer | str, *args: str) -> int:
    url = prometheus if isinstance(prometheus, str) else prometheus.url
    return cli.main(["--root", str(project), "report", "--prometheus", url, *args])


@pytest.fixture(scope="module")
def november(project: Path, prometheus: PrometheusServer) -> Path:
    assert report(project, prometheus, "--month", "2026-11") == 0
    return project / "build/reports/2026-11"


@pytest.fixture(scope="module")
def october(project: Path, prometheus: PrometheusServer) -> Path:
    assert report(project, prometheus, "--month", "2026-10", "--out", "october-reports") == 0
    return project / "october-reports/2026-10"


def measures(page: str) -> dict[str, str]:
    """The rows of a tenant page's first table: measure -> value."""
    return dict(re.findall(r"^\| ([^|#-][^|]*?) \| (.+?) \|$", page.split("## ")[0], re.M))


def ratio(text: str) -> float:
    """'99.807 %' -> 0.99807."""
    return float(re.match(r"([0-9.]+) %", text)[1]) / 100


def incident_rows(page: str) -> list[tuple[str, ...]]:
    return [tuple(cells) for *cells, in re.findall(
        r"^\| \d \| ([0-9: -]+) \| ([0-9: -]+) \| (\d+) \| ([0-9,]+) \| ([0-9.]+ %) \|$", page, re.M)]


@pytest.mark.e2e
def test_the_month_folder_holds_a_page_and_a_chart_per_tenant_and_the_fleet_summary(november):
    assert sorted(p.name for p in november.iterdir()) == [
        "east-daily.png", "east.md", "fleet.md", "north-daily.png", "north.md", "quiet-daily.png", "quiet.md",
        "south-daily.png", "south.md"]
    assert (november / "north-daily.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![Daily success ratio and error budget burn of north, November 2026](north-daily.png)" in \
        (november / "north.md").read_text()


@pytest.mark.e2e
def test_north_november_counts_only_the_month_exactly_across_a_counter_reset(november):
    """November is (Nov 1 00:00, Dec 1 00:00]: the 5,760 scrapes of Nov 1 00:00:15 .. Nov 2 00:00:00, 10 requests
    each: 57,600; failures 100 + 8 + 2 + 1 = 111 (not the October ones, not the scrape at Nov 1 00:00:00, which
    counts Oct 31 23:59:45-24:00). Success 57,489 / 57,600 = 0.998073; allowed failures 57,600 x 0.001 = 57.6;
    budget used 111 / 57.6 = 192.71 %; within 60 s: 9 of 10. The reset at 12:00 loses nothing."""
    page = (november / "north.md").read_text()
    table = measures(page)
    assert table["Requests"] == "57,600"
    assert table["Failed requests"] == "111"
    assert round(ratio(table["Success ratio"]), 4) == round(57489 / 57600, 4) == 0.9981
    assert table["Objective (SLO)"] == "99.9 %: missed"
    assert table["Error budget used"] == ("192.71 % (111 of 57.60 failed requests allowed: 0.1 % of 57,600 "
                                          "requests)")
    assert table["Requests within the latency SLA (60 s)"] == "90.000 %"


@pytest.mark.e2e
def test_incident_windows_are_right_to_the_minute_worst_first(november, october):
    """North's burning minutes in November (more than 0.1 % failed): 10:00-10:04 (20 failures of 40 a minute),
    18:30-18:31 (4 of 40), 20:00 (2), 21:00 (1): four runs, the three with most failures shown. October: two runs
    of 4 failures, 22:00 and 23:59 (ending at Nov 1 00:00), earliest first on a tie."""
    assert incident_rows((november / "north.md").read_text()) == [
        ("2026-11-01 10:00", "2026-11-01 10:05", "5", "100", "50.000 %"),
        ("2026-11-01 18:30", "2026-11-01 18:32", "2", "8", "10.000 %"),
        ("2026-11-01 20:00", "2026-11-01 20:01", "1", "2", "5.000 %")]
    assert "(4 such run(s) in the month)" in (november / "north.md").read_text()
    assert incident_rows((october / "north.md").read_text()) == [
        ("2026-10-31 22:00", "2026-10-31 22:01", "1", "4", "10.000 %"),
        ("2026-10-31 23:59", "2026-11-01 00:00", "1", "4", "10.000 %")]


@pytest.mark.e2e
def test_a_tenant_exactly_at_its_slo_meets_it_and_just_below_misses_it(november, october):
    """South, November: 144,000 requests (100 a minute for 1,440 minutes), 4,320 failed (3 a minute): success
    139,680 / 144,000 = 0.97 exactly, the SLO: met, budget used 4,320 / (144,000 x 0.03) = 100.00 %, and no minute
    above the budget (3 of 100 is at it). October: one failure more (4,321): 0.969993 < 0.97, missed, budget
    4,321 / 4,320 = 100.02 %, and the one minute with 4 failures is an incident."""
    nov, oct_ = measures((november / "south.md").read_text()), measures((october / "south.md").read_text())
    assert (nov["Requests"], nov["Failed requests"]) == ("144,000", "4,320")
    assert nov["Success ratio"] == "97.000 %"
    assert nov["Objective (SLO)"] == "97 %: met"
    assert nov["Error budget used"].startswith("100.00 % (4,320 of 4,320 failed requests allowed")
    assert "No minute of the month had more failed requests" in (november / "south.md").read_text()
    assert (oct_["Requests"], oct_["Failed requests"]) == ("144,000", "4,321")
    assert round(ratio(oct_["Success ratio"]), 4) == round(139679 / 144000, 4) == 0.97
    assert oct_["Objective (SLO)"] == "97 %: missed"
    assert oct_["Error budget used"].startswith("100.02 % (4,321 of 4,320 failed")
    assert incident_rows((october / "south.md").read_text()) == [
        ("2026-10-31 12:00", "2026-10-31 12:01", "1", "4", "4.000 %")]


@pytest.mark.e2e
def test_within_sla_share_reads_the_bucket_of_each_tenants_own_sla(november):
    """South: 24 of 25 within its 180 s (not the 20 within the platform's 120 s): 96 %; east: 1 of 2 within 30 s."""
    assert measures((november / "south.md").read_text())["Requests within the latency SLA (180 s)"] == "96.000 %"
    assert measures((november / "east.md").read_text())["Requests within the latency SLA (30 s)"] == "50.000 %"


@pytest.mark.e2e
def test_daily_numbers_add_up_to_the_month(november):
    """All of north's November traffic falls on Nov 1 (the scrape at Nov 2 00:00:00 counts Nov 1 23:59:45-24:00):
    one day, the whole budget used."""
    rows = re.findall(r"^\| (2026-\d\d-\d\d) \| ([0-9,]+) \| (\d+) \| ([0-9.]+ %) \| ([0-9.]+ %) \|$",
                      (november / "north.md").read_text(), re.M)
    assert rows == [("2026-11-01", "57,600", "111", "99.807 %", "192.71 %")]


@pytest.mark.e2e
def test_fleet_summary_lists_every_tenant_most_budget_used_first(november):
    """north 192.71 %, south 100.00 %, east 0.00 % (11,520 requests, none failed), quiet without requests last."""
    fleet = (november / "fleet.md").read_text()
    rows = re.findall(r"^\| (\w+) \(\w+\) \| ([0-9.]+ %) \| ([^|]+) \| (\w+(?: \w+)?) \| ([^|]+) \| ([0-9,]+) \|",
                      fleet, re.M)
    assert rows == [("north", "99.9 %", "99.807 %", "missed", "192.71 %", "57,600"),
                    ("south", "97 %", "97.000 %", "met", "100.00 %", "144,000"),
                    ("east", "99.5 %", "100.000 %", "met", "0.00 %", "11,520"),
                    ("quiet", "99 %", "no requests", "no requests", "no requests", "0")]
    assert "4 tenant(s), most error budget used first; 1 missed the SLO." in fleet
    assert "| 2026-11-01 10:00, 100 | [north.md](north.md) |" in fleet


@pytest.mark.e2e
def test_tenant_option_reports_only_the_named_tenants(project, prometheus):
    assert report(project, prometheus, "--month", "2026-11", "--tenant", "east", "--out", "only-east") == 0
    assert sorted(p.name for p in (project / "only-east/2026-11").iterdir()) == ["east-daily.png", "east.md",
                                                                                 "fleet.md"]


@pytest.mark.e2e
def test_a_month_without_data_is_an_error_naming_the_month(project, prometheus, capsys):
    assert report(project, prometheus, "--month", "2026-09", "--out", "september") == 2
    assert "no data for 2026-09 (2026-09-01 00:00 to 2026-10-01 00:00 UTC)" in capsys.readouterr().err
    assert not (project / "september").exists()


def test_an_unreachable_prometheus_is_an_error_naming_the_url(project, capsys):
    url = f"http://127.0.0.1:{free_loopback_port()}"  # nothing listens there
    assert report(project, url, "--month", "2026-11", "--out", "unreachable") == 2
    assert f"--prometheus: cannot reach Prometheus at {url}" in capsys.readouterr().err
    assert not (project / "unreachable").exists()


def test_an_unknown_tenant_is_named_with_the_configured_ones(project, capsys):
    assert report(project, "http://127.0.0.1:1", "--tenant", "west", "--tenant", "north") == 2
    assert ("--tenant west: not a configured tenant (configured: east, north, quiet, south)"
            in capsys.readouterr().err)


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "11-2026", "2026-11-01", "2026-00", "0000-01"])
def test_a_malformed_month_is_refused(project, capsys, month):
    assert report(project, "http://127.0.0.1:1", "--month", month) == 2
    assert f"--month {month!r}: expected a calendar month as YYYY-MM, e.g. 2026-11" in capsys.readouterr().err


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2026, 12, 6, 7, 0, tzinfo=UTC), Month(2026, 11)),
    (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), Month(2025, 12)),
    (datetime(2026, 3, 31, 23, 59, tzinfo=UTC), Month(2026, 2)),
])
def test_the_default_month_is_the_last_full_month(now, expected):
    assert Month.before(now) == expected


def test_a_month_is_its_utc_calendar_days():
    """February 2028 (a leap year): 29 days, from 2028-02-01T00:00Z = 1832976000."""
    february = Month.parse("2028-02")
    assert (february.start, february.days, february.end - february.start) == (1832976000, 29, 29 * 86400)


def test_the_daily_chart_draws_each_days_value_and_the_running_total():
    """Bars of 10 %, none, 30 %: the running total reads 10, 10, 40; the success line keeps its gap."""
    figure = daily_chart("t", "s", NOV1, (
        DailyPanel("Success", [99.5, None, 98.0], reference=99.0, reference_label="SLO 99 %"),
        DailyPanel("Burn", [10.0, None, 30.0], kind="bars", running_total="month so far")))
    artists = {a.get_gid(): a for ax in figure.axes for a in [*ax.lines, *ax.patches] if a.get_gid()}
    bars = [p.get_height() for ax in figure.axes for p in ax.patches if p.get_gid() == "daily-bars"]
    assert bars[0::2] == [10.0, 30.0] and math.isnan(bars[1])
    assert list(artists["daily-running-total"].get_ydata()) == [10.0, 10.0, 40.0]
    line = list(artists["daily-line"].get_ydata())
    assert line[0::2] == [99.5, 98.0] and math.isnan(line[1])
    assert list(artists["daily-reference"].get_ydata()) == [99.0, 99.0]


def test_simulate_and_prometheus_exclude_each_other(project, capsys):
    assert report(project, "http://127.0.0.1:1", "--simulate", "--month", "2026-11") == 2
    assert "--prometheus and --simulate exclude each other" in capsys.readouterr().err


@pytest.mark.e2e
def test_a_failed_run_leaves_the_previous_report_of_the_month_as_it_was(project, november, capsys):
    before = {p.name: p.read_bytes() for p in november.iterdir()}
    url = f"http://127.0.0.1:{free_loopback_port()}"
    assert report(project, url, "--month", "2026-11") == 2
    assert {p.name: p.read_bytes() for p in november.iterdir()} == before
    assert [p.name for p in november.parent.iterdir()] == ["2026-11"]  # no staging folder left beside it
