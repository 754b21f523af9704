"""`python tools/mutants.py` (`nox -s mutants`; test tooling, not part of the `agentmon` command): plant known,
realistic one-line bugs, one at a time, in a scratch copy of the tree, and check that the build's checks or the
tests catch each one.

Each mutant is a bug someone could really write (a threshold moved, a unit or reducer swapped, a `sum` or a `by`
dropped, a window changed, a hardening flag flipped, a guard removed), visible to a Grafana user or an operator.
For each: copy the tree (the files git knows, committed or not), replace `old` by `new` in one file (the old text
must be there exactly once: a mutant that no longer applies is an error, not a pass), run `agentmon build` there
(a bug the build's checks refuse is caught), then run the mutant's own few tests with the scratch copy's code
first on the import path, stopping at the first failure. Every mutant must be caught; when a real bug slips
through the tests, add it here with the test that now catches it. The list and its rules: docs/testing.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agentmon_live.owned import scratch_dir

TEMPLATE = "templates/tenant-dashboard/{{cookiecutter.tenant_id}}/tenant.yaml"
DASHBOARDS = "packages/dashboards/src/agentmon_dashboards"
SEES = "packages/dashboards/tests/test_what_the_user_sees.py"
MAIN_E2E = "packages/live/tests/test_e2e_main_dashboard.py"
TENANT_E2E = "packages/live/tests/test_e2e_tenant_dashboard.py"
K8S = "packages/checks/tests/test_kubernetes.py"
TARGETS = "packages/checks/tests/test_targets.py"
TIMEOUT_SECONDS = 900
out = Console(highlight=False, width=shutil.get_terminal_size((150, 24)).columns)  # wide when piped


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # repo-relative file to change
    old: str  # must occur exactly once in that file
    new: str
    tests: tuple[str, ...]  # pytest arguments: node ids, files, -k expressions
    why: str  # what the user or operator would see


MUTANTS = (
    # --- issue 12's survivors: now each caught by a test of what the user sees ---
    Mutant("template-slo-hard-coded", TEMPLATE, "success_rate_slo: {{ cookiecutter.success_rate_slo }}",
           "success_rate_slo: 99.0", ("packages/cli/tests/test_tenant_template.py::"
                                      "test_every_answer_reaches_the_tenants_dashboard",),
           "a new tenant's gauge turns green at 99 % whatever SLO was answered"),
    Mutant("template-sla-hard-coded", TEMPLATE, "p95_latency_sla_seconds: {{ cookiecutter.p95_latency_sla_seconds }}",
           "p95_latency_sla_seconds: 120", ("packages/cli/tests/test_tenant_template.py::"
                                            "test_every_answer_reaches_the_tenants_dashboard",),
           "the SLA line sits at 120 s whatever SLA was answered"),
    Mutant("template-owner-hard-coded", TEMPLATE, "owner_contact: {{ cookiecutter.owner_contact | tojson }}",
           'owner_contact: "platform-ops@example.com"', ("packages/cli/tests/test_tenant_template.py::"
                                                         "test_every_answer_reaches_the_tenants_dashboard",),
           "the dashboard names the wrong owner"),
    Mutant("tenant-budget-green-from-50", f"{DASHBOARDS}/tenant.py", '[(None, "red"), (0, "yellow"), (25, "green")]',
           '[(None, "red"), (0, "yellow"), (50, "green")]', (SEES, "-k", "error_budget"),
           "a budget 25-50 % left shows yellow instead of green"),
    Mutant("tenant-workers-green-at-0", f"{DASHBOARDS}/tenant.py",
           'prom_query(ds, q.active_workers_total(scope), "Active workers"), [(None, "red"), (1, "green")],',
           'prom_query(ds, q.active_workers_total(scope), "Active workers"), [(None, "green"), (1, "green")],',
           (SEES, "-k", "tenant_workers"), "a tenant without workers stays green"),
    Mutant("error-table-percentunit", f"{DASHBOARDS}/main.py",
           'value=("Value", "Error Rate %"), unit="percent",', 'value=("Value", "Error Rate %"), unit="percentunit",',
           (SEES, "-k", "error_table"), "2 % of errors shown as 200 %"),
    Mutant("error-table-no-decimals", f"{DASHBOARDS}/panels.py",
           'dashboard_m.DynamicConfigValue(id_val="decimals", value=2),',
           'dashboard_m.DynamicConfigValue(id_val="decimals", value=0),',
           (SEES, "-k", "error_table"), "0.13 % of errors shown as 0 %"),
    Mutant("tenant-picker-refresh-on-load", f"{DASHBOARDS}/main.py",
           ".refresh(dashboard_m.VariableRefresh.ON_TIME_RANGE_CHANGED)",
           ".refresh(dashboard_m.VariableRefresh.ON_DASHBOARD_LOAD)",
           (SEES, "-k", "picker"), "a tenant that appears later never shows in the picker"),
    Mutant("reducer-mean", f"{DASHBOARDS}/panels.py", 'LAST_VALUE = ["lastNotNull"]', 'LAST_VALUE = ["mean"]',
           (SEES, "-k", "latest_value"), "gauges and stats show the range's average, not the current value"),
    Mutant("dns-egress-to-everything", "packages/deploy/src/agentmon_deploy/grafana.py",
           '{"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],',
           '{"to": [{"namespaceSelector": {}}],', (K8S, "-k", "network_policy"),
           "Grafana may send anything on port 53 to any pod"),
    Mutant("workers-max-of-instances", "packages/rules/src/agentmon_rules/recording.py",
           'return (f"sum{_by(by)}(avg_over_time({WORKERS}[{w.gauge}])) "',
           'return (f"max{_by(by)}(avg_over_time({WORKERS}[{w.gauge}])) "',
           (TENANT_E2E, "-k", "acme and 1h"), "a tenant served by several replicas shows one replica's workers"),
    Mutant("main-workers-without-sum", f"{DASHBOARDS}/queries.py",
           "return f\"sum({_over('avg_over_time', ACTIVE_WORKERS.name, scope)})\"",
           "return f\"{_over('avg_over_time', ACTIVE_WORKERS.name, scope)}\"",
           (MAIN_E2E, "-k", "active_workers and 1h"), "several tenants' workers shown as several values"),
    Mutant("budget-window-1d", "packages/config/src/agentmon_config/slo.py", 'ERROR_BUDGET_WINDOW = "30d"',
           'ERROR_BUDGET_WINDOW = "1d"',
           (TENANT_E2E, "-k", "globex and 1h"), "the 30-day budget counts one day only"),
    Mutant("panel-window-whole-range", f"{DASHBOARDS}/queries.py", 'WINDOW = "$__rate_interval"',
           'WINDOW = "$__range"', (MAIN_E2E, "-k", "success_rate and 1h"),
           "current values are averages over the whole range"),
    # --- killed before issue 12 (its audit), kept so they stay killed ---
    Mutant("average-of-percentages", f"{DASHBOARDS}/queries.py",
           "return f\"100 * {_outcome_ratio(scope, 'success', by='')}\"",
           "return f\"100 * avg({_outcome_ratio(scope, 'success', by=TENANT_LABEL)})\"",
           (MAIN_E2E, "-k", "success_rate and 1h"), "a small tenant's failures weigh as much as a big one's"),
    Mutant("error-table-without-by-tenant", f"{DASHBOARDS}/queries.py",
           "return each_selected_tenant(lambda scope: f\"100 * {_outcome_ratio(scope, 'failure', by=TENANT_LABEL)}\")",
           "return each_selected_tenant(lambda scope: f\"100 * {_outcome_ratio(scope, 'failure', by='')}\")",
           (MAIN_E2E, "-k", "error_rate and 1h"), "one unnamed row instead of one per tenant"),
    Mutant("queue-without-sum", f"{DASHBOARDS}/queries.py",
           "return f\"sum({_over('avg_over_time', QUEUE_DEPTH.name, scope)})\"",
           "return f\"{_over('avg_over_time', QUEUE_DEPTH.name, scope)}\"",
           ("packages/dashboards/tests/test_main_dashboard.py", "-k", "queue"), "one curve per tenant, no total"),
    Mutant("tenant-scope-dropped", f"{DASHBOARDS}/tenant.py", "scope = q.tenant_scope(tenant.tenant_id)",
           "scope = q.tenant_variable_scope()", ("packages/dashboards/tests/test_tenant_dashboard.py",),
           "a tenant's dashboard shows other tenants' data"),
    Mutant("p90-instead-of-p95", f"{DASHBOARDS}/main.py", "q.latency_quantile(scope, 0.95)",
           "q.latency_quantile(scope, 0.9)", ("packages/dashboards/tests/test_main_dashboard.py", "-k", "latency"),
           "the p95 panel shows p90"),
    Mutant("quantile-without-by-le", f"{DASHBOARDS}/queries.py",
           "sum by (le) ({_over('sum_over_time', BUCKET_RATE.name, scope)})",
           "sum({_over('sum_over_time', BUCKET_RATE.name, scope)})",
           ("packages/dashboards/tests/test_main_dashboard.py", "-k", "latency"), "latency panels show no data"),
    Mutant("run-as-root-allowed", "packages/deploy/src/agentmon_deploy/grafana.py",
           '"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},',
           '"runAsNonRoot": False, "capabilities": {"drop": ["ALL"]}},', (K8S, "-k", "restricted"),
           "Grafana's container may run as root"),
    Mutant("writable-root-filesystem", "packages/deploy/src/agentmon_deploy/grafana.py",
           '"readOnlyRootFilesystem": True,', '"readOnlyRootFilesystem": False,', (K8S, "-k", "restricted"),
           "Grafana's container may write its own image"),
    Mutant("validate-not-comparing", "packages/checks/src/agentmon_checks/drift.py",
           "elif on_disk[rel].read_bytes() != content:", "elif False:",
           ("packages/cli/tests/test_cli.py::test_validate_names_a_hand_edited_file",),
           "a hand-edited dashboard passes validate"),
    Mutant("publish-force-push", "packages/publish/src/agentmon_publish/publish.py",
           'pushed = git("push", "--quiet", "origin",', 'pushed = git("push", "--force", "--quiet", "origin",',
           ("packages/publish/tests/test_publish.py::test_two_concurrent_publishers_both_land",),
           "publishing overwrites what another team pushed"),
    Mutant("publish-path-escape", "packages/publish/src/agentmon_publish/publish.py",
           'if target.is_absolute() or ".." in target.parts or str(target) in ("", "."):',
           'if target.is_absolute() or str(target) in ("", "."):',
           ("packages/publish/tests/test_publish.py::test_path_must_stay_inside_the_target",),
           "--path ../x writes outside the target folder"),
    # --- the recording rules and the recorded series the dashboards read ---
    Mutant("rule-rate-window-one-evaluation", "packages/rules/src/agentmon_rules/recording.py",
           "return cls(rate=promql_duration(max(evaluation + scrape, 4 * scrape)),",
           "return cls(rate=promql_duration(max(evaluation, 4 * scrape)),",
           ("packages/rules/tests/test_recording.py",), "increases between two evaluations are lost"),
    Mutant("aggregate-without-all-label", "packages/rules/src/agentmon_rules/recording.py",
           "RecordingRule(recorded.name, build(extra), labels=((TENANT_LABEL, ALL_TENANTS),)))",
           "RecordingRule(recorded.name, build(extra)))", ("packages/rules/tests/test_recording.py",),
           "All shows nothing: the platform aggregate is recorded without tenant_id=\"__all__\""),
    Mutant("workerless-at-one-worker", "packages/rules/src/agentmon_rules/recording.py",
           'RecordingRule(WORKERLESS_TENANTS.name, f"({per_tenant_workers}) < bool {WORKERS_NEEDED}"),',
           'RecordingRule(WORKERLESS_TENANTS.name, f"({per_tenant_workers}) <= bool {WORKERS_NEEDED}"),',
           (MAIN_E2E, "-k", "without_a_worker and 1h"), "a tenant with one worker counted as without a worker"),
    # --- the alerts ---
    Mutant("sli-rates-not-per-second", "packages/rules/src/agentmon_rules/recording.py",
           'return f"{requests_over(left_open, (), TENANT_LABEL, status)} * {evaluation} / {seconds}"',
           'return f"{requests_over(left_open, (), TENANT_LABEL, status)}"',
           ("packages/rules/tests/test_alert_behaviour.py", "-k", "counted_whole or two_requests"),
           "the low-traffic guard counts every failure dozens of times: a tenant with one failure pages"),
    Mutant("burn-without-short-window", "packages/rules/src/agentmon_rules/alerts.py",
           'return f"({long} > {threshold} and on ({TENANT_LABEL}) {still} and on ({TENANT_LABEL}) {enough})"',
           'return f"({long} > {threshold} and on ({TENANT_LABEL}) {enough})"',
           ("packages/rules/tests/test_alert_behaviour.py", "-k", "stopped"),
           "a burn that has stopped keeps paging until it leaves the long window (up to 6 h)"),
    Mutant("rate-panel-sums-recorded-values", f"{DASHBOARDS}/queries.py",
           "return f\"sum by (status) ({_over('avg_over_time', REQUEST_RATE.name, scope)})\"",
           "return f\"sum by (status) ({_over('sum_over_time', REQUEST_RATE.name, scope)})\"",
           # 7 days: over 1 hour the 60 s window holds one recorded value, and the sum equals the average
           (TENANT_E2E, "-k", "acme and 7d"), "request rates multiplied by the points in the window"),
    Mutant("outcome-colours-swapped", f"{DASHBOARDS}/panels.py",
           'OUTCOME_COLOURS = {"success": "green", "failure": "red"}',
           'OUTCOME_COLOURS = {"success": "red", "failure": "green"}', (SEES, "-k", "success_green_and_failure_red"),
           "a tenant's failures are drawn green and its successes red"),
    # --- the kube-prometheus-stack and grafana-operator targets, the ServiceMonitor ---
    Mutant("kps-dashboards-keep-agentmon-datasource", "packages/bundle/src/agentmon_bundle/outputs.py",
           "return dashboards if uid == config.datasource.uid else render_dashboards(with_datasource_uid(config, uid))",
           "return dashboards", (TARGETS,),
           "every panel in kube-prometheus-stack's Grafana says datasource agentmon-prometheus not found"),
    Mutant("kps-folder-annotation-is-the-file-path", "packages/deploy/src/agentmon_deploy/targets.py",
           'options["annotations"] = {kps.folder_annotation: folder_of(path)}',
           'options["annotations"] = {kps.folder_annotation: path}', (TARGETS,),
           "the sidecar writes acme's dashboard to /tmp/dashboards/acme/tenant-acme.json/tenant-acme.json"),
    Mutant("operator-folder-ref-is-the-title", "packages/deploy/src/agentmon_deploy/targets.py",
           'spec["folderRef"] = folder_name(folder_of(path))', 'spec["folderRef"] = folder_of(path)', (TARGETS,),
           "grafana-operator waits forever for a GrafanaFolder 'acme': the tenant dashboards never appear"),
    Mutant("service-monitor-without-interval", "packages/deploy/src/agentmon_deploy/targets.py",
           '"path": monitor.path, "interval": config.datasource.scrape_interval}', '"path": monitor.path}',
           (TARGETS,), "kube-prometheus-stack scrapes the platform every 30 s: rates read half the samples assumed"),
    Mutant("burn-rate-over-the-objective", "packages/rules/src/agentmon_rules/recording.py",
           'f"{ERROR_BUDGET.name}", (("window", window),))', 'f"{SLO_OBJECTIVE.name}", (("window", window),))',
           ("packages/live/tests/test_e2e_slo_overview.py", "-k", "burn_rates_per_window"),
           "a tenant burning 33 x its budget shows a burn rate of 0.03"),
    Mutant("slo-table-best-first", f"{DASHBOARDS}/panels.py",
           ".sort_by([common_b.TableSortByFieldState().display_name(sort_by).desc(False)])",
           ".sort_by([common_b.TableSortByFieldState().display_name(sort_by).desc(True)])",
           ("packages/live/tests/test_e2e_slo_overview.py", "-k", "worst_first"),
           "the tenants breaching their SLO sit at the bottom of a 1,000-row table"),
)


class MutantDoesNotApply(Exception):
    pass


def source_files(root: Path) -> list[str]:
    """Files git knows in the work tree, committed or not (ignored files and .git left out)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, text=True, check=True).stdout
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def copy_tree(root: Path, files: list[str], target: Path) -> None:
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)


def plant(tree: Path, mutant: Mutant) -> None:
    path = tree / mutant.path
    text = path.read_text() if path.is_file() else ""
    count = text.count(mutant.old)
    if count != 1:
        raise MutantDoesNotApply(f"{mutant.name}: expected its old text once in {mutant.path}, found it {count} "
                                 f"times: {mutant.old!r}")
    path.write_text(text.replace(mutant.old, mutant.new))


def environment(tree: Path) -> dict[str, str]:
    """The scratch copy's code first on the import path (before the installed agentmon), tools on PATH."""
    sources = [str(p) for p in sorted((tree / "packages").glob("*/src"))] + [str(tree / "packages/testkit")]
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sources), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    caught_by: str  # "build", "tests", or "" when it survived
    detail: str
    seconds: float


def judge(tree: Path, mutant: Mutant) -> Verdict:
    started, env = time.monotonic(), environment(tree)

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *command], cwd=tree, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT_SECONDS)

    build = run("-m", "agentmon_cli", "--root", str(tree), "build")
    if build.returncode != 0:
        return Verdict(mutant, "build", _last_line(build.stderr or build.stdout), time.monotonic() - started)
    tests = run("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.tests)
    seconds = time.monotonic() - started
    if tests.returncode == 1:  # a test failed
        failed = [line for line in tests.stdout.splitlines() if line.startswith("FAILED ")]
        test = failed[0].removeprefix("FAILED ").split(" - ")[0].rsplit("::", 1)[-1] if failed else ""
        return Verdict(mutant, "tests", test, seconds)
    detail = "every test passed" if tests.returncode == 0 else f"pytest exit {tests.returncode}: " + \
        _last_line(tests.stdout + tests.stderr)
    return Verdict(mutant, "", detail, seconds)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_mutants(root: Path, mutants: tuple[Mutant, ...]) -> list[Verdict]:
    files = source_files(root)
    verdicts = []
    with scratch_dir("mutants") as scratch:
        for number, mutant in enumerate(mutants, 1):
            tree = Path(scratch) / f"{number:02d}-{mutant.name}"
            copy_tree(root, files, tree)
            plant(tree, mutant)
            verdict = judge(tree, mutant)
            out.print(f"{number}/{len(mutants)} {mutant.name}: "
                      f"{'caught by ' + verdict.caught_by if verdict.caught_by else 'SURVIVED'} "
                      f"({verdict.seconds:.0f} s)", markup=False)
            verdicts.append(verdict)
            shutil.rmtree(tree)
    return verdicts


def report(verdicts: list[Verdict], seconds: float) -> bool:
    table = Table(title="planted bugs")
    for column in ("mutant", "file", "what the user would see", "caught by", "s"):
        table.add_column(column, overflow="fold")
    for v in verdicts:
        caught = f"{v.caught_by}: {v.detail}" if v.caught_by else f"[bold red]SURVIVED[/] ({v.detail})"
        table.add_row(v.mutant.name, v.mutant.path.rsplit("/", 1)[-1], v.mutant.why, caught, f"{v.seconds:.0f}")
    out.print(table)
    killed = sum(1 for v in verdicts if v.caught_by)
    out.print(f"score: {killed}/{len(verdicts)} planted bugs caught ({100 * killed / max(1, len(verdicts)):.0f} %) "
              f"in {seconds / 60:.1f} min", markup=False)
    return killed == len(verdicts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agentmon_cli.mutants", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only these mutants (default: all)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository (default: here)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    known = {m.name: m for m in MUTANTS}
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"unknown mutant(s) {', '.join(unknown)}; --list shows them")
    if args.list:
        for m in MUTANTS:
            out.print(f"{m.name}: {m.why} ({m.path})", markup=False, soft_wrap=True)
        return 0
    started = time.monotonic()
    try:
        verdicts = run_mutants(args.root.resolve(), tuple(known[n] for n in args.names) or MUTANTS)
    except MutantDoesNotApply as exc:
        Console(stderr=True).print(f"ERROR: {exc}", markup=False, soft_wrap=True)
        return 2
    return 0 if report(verdicts, time.monotonic() - started) else 1


if __name__ == "__main__":
    sys.exit(main())
