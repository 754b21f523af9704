"""templates/tenant-dashboard in a scratch copy of the repository: baked through cookiecutter's API (agentmon's
environment), through `agentmon tenant`, and by a cookiecutter that cannot import agentmon."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException, OutputDirExistsException
from cookiecutter.main import cookiecutter

from agentmon_bundle.outputs import render
from agentmon_checks.kustomize import render_overlays
from agentmon_cli import main as cli
from agentmon_config import ConfigError, check_tenant_answers, fields, load_platform
from agentmon_live.panelrun import panel_by_title
from agentmon_live.panelstyle import field_style, threshold_colour

from .plain_cookiecutter import make_plain_cookiecutter

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for name in ("config", "base", "overlays", "components", "compose", "templates", "packages/config/src"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("generated", "__pycache__"))
    (tmp_path / "tenants").mkdir()
    return tmp_path


def bake(repo: Path, overwrite: bool = False, **answers: str) -> Path:
    return Path(cookiecutter(str(repo / "templates/tenant-dashboard"), no_input=True, output_dir=str(repo / "tenants"),
                             extra_context=answers, overwrite_if_exists=overwrite))


def written(repo: Path) -> list[str]:
    return sorted(p.relative_to(repo / "tenants").as_posix() for p in (repo / "tenants").rglob("*"))


def test_baked_tenant_is_found_by_the_build_and_lands_in_its_own_folder(repo):
    path = bake(repo, tenant_id="zeta", display_name="Zeta")
    assert path == repo / "tenants/zeta"
    lines = (path / "tenant.yaml").read_text().splitlines()
    assert lines[3:5] == ["tenant_id: zeta", 'display_name: "Zeta"']
    assert lines[5].startswith("success_rate_slo: 99.0 ")
    assert cli.main(["--root", str(repo), "build"]) == 0
    assert cli.main(["--root", str(repo), "validate"]) == 0
    board = json.loads((repo / "dashboards/zeta/tenant-zeta.json").read_text())
    assert board["title"] == "Zeta - Enhancement Pipeline"
    config = load_platform(repo / "config/platform.yaml", repo / "tenants")
    for overlay in render_overlays(repo, render(config).files):
        found = {f"{o['kind']}/{o['metadata']['name']}": o for o in overlay.objects}
        if "+" in overlay.name:
            continue
        if overlay.name == "kube-prometheus-stack":  # the chart's Grafana: its sidecar reads the folder annotation
            assert found["ConfigMap/dashboard-tenant-zeta"]["metadata"]["annotations"] == {"grafana_folder": "zeta"}
            continue
        if overlay.name == "grafana-operator":
            assert found["GrafanaDashboard/dashboard-tenant-zeta"]["spec"]["folderRef"] == "agentmon-zeta"
            assert found["GrafanaFolder/agentmon-zeta"]["spec"]["title"] == "zeta"
            continue
        # zeta (CRC-32 1a3c7b13) in shard 0001, keyed zeta_<file>: the init container copies it to <path>/zeta/<file>
        shard = next(o for o in overlay.objects if o["metadata"]["name"].startswith("grafana-dashboards-tenants-0001-"))
        assert list(shard["data"]) == ["zeta_tenant-zeta.json"], overlay.name
        (grafana,) = [o for o in overlay.objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "grafana"]
        copied = [m["mountPath"] for m in grafana["spec"]["template"]["spec"]["initContainers"][0]["volumeMounts"]]
        assert "/agentmon-dashboards/tenants-0001" in copied, overlay.name


def test_defaults_fill_the_other_answers(repo):
    bake(repo, tenant_id="big-co")
    text = (repo / "tenants/big-co/tenant.yaml").read_text()
    assert 'display_name: "Big Co"' in text
    assert "queue_alert_threshold: 100" in text


@pytest.mark.parametrize(("answers", "message"), [
    ({"tenant_id": "Zeta!"},
     "tenant_id: 'Zeta!' does not match the expected format ^[a-z][a-z0-9-]{0,29}[a-z0-9]$"),
    ({"tenant_id": "z"}, "tenant_id: 'z' does not match the expected format"),
    ({"tenant_id": "grafana"}, "tenant_id: 'grafana' is a reserved name"),
    ({}, "tenant not created: tenant_id is required, e.g. `nox -s tenant -- tenant_id=zeta display_name=Zeta`"),
    ({"tenant_id": "zeta", "success_rate_slo": "lots"}, "success_rate_slo: 'lots' is not of type 'number'"),
    ({"tenant_id": "zeta", "queue_alert_threshold": "0"}, "queue_alert_threshold: 0 is less than the minimum of 1"),
])
def test_invalid_answers_fail_in_the_hook_and_write_nothing(repo, capfd, answers, message):
    with pytest.raises(FailedHookException):
        bake(repo, **answers)
    assert message in capfd.readouterr().err
    assert written(repo) == []


def test_existing_tenant_is_refused_and_left_untouched(repo, capfd):
    bake(repo, tenant_id="zeta", display_name="Zeta")
    before = (repo / "tenants/zeta/tenant.yaml").read_text()
    with pytest.raises(OutputDirExistsException):
        bake(repo, tenant_id="zeta", display_name="Other")
    with pytest.raises(FailedHookException):
        bake(repo, overwrite=True, tenant_id="zeta", display_name="Other")
    assert "tenant not created: tenant 'zeta' already exists" in capfd.readouterr().err
    assert (repo / "tenants/zeta/tenant.yaml").read_text() == before
    assert written(repo) == ["zeta", "zeta/tenant.yaml"]


def agentmon_tenant(repo: Path, *answers: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentmon_cli", "--root", str(repo), "tenant", *answers],
                          capture_output=True, text=True, timeout=60)


def test_agentmon_tenant_prints_only_the_hooks_message(repo):
    result = agentmon_tenant(repo, "tenant_id=Zeta!")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "ERROR: tenant not created: invalid answers",
        "tenant answers: tenant_id: 'Zeta!' does not match the expected format ^[a-z][a-z0-9-]{0,29}[a-z0-9]$"]
    assert result.stdout == ""
    assert written(repo) == []


def test_agentmon_tenant_writes_answers_literally_not_as_jinja(repo):
    """{{ }} is refused (Prometheus and Alertmanager would run it); Jinja's other tags are plain text to them."""
    result = agentmon_tenant(repo, "tenant_id=zeta", "display_name={% raw %} {#x#} {%",
                             "owner_contact={#team#}@example.com")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "created tenants/zeta/tenant.yaml; next: nox -s build validate\n"
    text = (repo / "tenants/zeta/tenant.yaml").read_text()
    assert 'display_name: "{% raw %} {#x#} {%"' in text
    assert 'owner_contact: "{#team#}@example.com"' in text
    assert cli.main(["--root", str(repo), "build"]) == 0
    board = json.loads((repo / "dashboards/zeta/tenant-zeta.json").read_text())
    assert board["title"] == "{% raw %} {#x#} {% - Enhancement Pipeline"


@pytest.mark.parametrize(("answers", "message"), [
    (["tenant_id=zeta", "colour=blue"], "error: colour=blue: the template has no question 'colour' (it asks "
                                        "tenant_id, display_name, success_rate_slo, p95_latency_sla_seconds, "
                                        "queue_alert_threshold, owner_contact)"),
    (["tenant_id=zeta", "tenant_id=eta"], "error: tenant_id: answered twice"),
    (["tenant_id"], "agentmon tenant: error: argument KEY=VALUE: 'tenant_id': expected KEY=VALUE, e.g. tenant_id=zeta"),
])
def test_agentmon_tenant_refuses_unknown_or_malformed_answers(repo, answers, message):
    result = agentmon_tenant(repo, *answers)
    assert result.returncode == 2
    assert " ".join(result.stderr.split()).endswith(message)
    assert written(repo) == []


def test_agentmon_tenant_without_answers_asks_and_says_when_the_input_ends(repo):
    command = [sys.executable, "-m", "agentmon_cli", "--root", str(repo), "tenant"]
    asked = subprocess.run(command, input="zeta\n{{ 7*7 }}\n\n\n\n\n\n", capture_output=True, text=True,
                           timeout=60)
    assert asked.returncode == 0, asked.stderr
    assert asked.stderr.splitlines() == [
        "  refused: display_name: '{{ 7*7 }}' holds {{ or }}, which Prometheus and Alertmanager would run as a "
        "template: write the text without them"]
    assert (repo / "tenants/zeta/tenant.yaml").read_text().splitlines()[3:5] == [
        "tenant_id: zeta", 'display_name: "Zeta"']
    ended = subprocess.run(command, input="", capture_output=True, text=True, timeout=60)
    assert ended.returncode == 2
    assert ended.stderr.strip() == ("ERROR: tenant not created: a question got no answer; give the answers as "
                                    "KEY=VALUE, e.g. tenant_id=zeta display_name=Zeta")
    assert written(repo) == ["zeta", "zeta/tenant.yaml"]


def test_agentmon_tenant_refuses_an_existing_tenant(repo):
    assert agentmon_tenant(repo, "tenant_id=zeta").returncode == 0
    result = agentmon_tenant(repo, "tenant_id=zeta", "display_name=Other")
    assert result.returncode == 2
    assert result.stderr.strip() == ("ERROR: tenant not created: tenants/zeta already exists: edit "
                                     "tenants/zeta/tenant.yaml (then nox -s build validate), or run `agentmon tenant "
                                     "--overwrite ...` to replace it")
    assert 'display_name: "Zeta"' in (repo / "tenants/zeta/tenant.yaml").read_text()


@pytest.fixture(scope="module")
def plain_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_plain_cookiecutter(tmp_path_factory.mktemp("plain-cookiecutter"))


def plain_bake(python: Path, repo: Path, answers: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The cookiecutter command, run from the repository root by a cookiecutter without agentmon."""
    return subprocess.run([str(python), "-m", "cookiecutter", "--no-input", "templates/tenant-dashboard", "-o",
                           "tenants", *(f"{k}={v}" for k, v in answers.items())],
                          cwd=repo, capture_output=True, text=True, timeout=60)


def test_a_cookiecutter_without_agentmon_creates_the_tenant_and_leaves_the_rest_to_the_build(repo, plain_python):
    result = plain_bake(plain_python, repo, {"tenant_id": "zeta", "display_name": "Zeta"})
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        "note: this cookiecutter cannot import agentmon, so the answers were checked with agentmon's rules read "
        "from the repository, except the display names of the other tenants; `nox -s build validate` checks those")
    assert (repo / "tenants/zeta/tenant.yaml").read_text().splitlines()[3:5] == [
        "tenant_id: zeta", 'display_name: "Zeta"']
    assert cli.main(["--root", str(repo), "build"]) == 0
    assert json.loads((repo / "dashboards/zeta/tenant-zeta.json").read_text())["title"] == \
        "Zeta - Enhancement Pipeline"


def schema_problems(answers: dict[str, str]) -> set[str]:
    """What agentmon's full check says about these answers (the template's defaults filling the others)."""
    defaults = {"display_name": "Zeta", "success_rate_slo": "99.0", "p95_latency_sla_seconds": "120",
                "queue_alert_threshold": "100", "owner_contact": "platform-ops@example.com"}
    tree = {key: fields.yaml_number(value) if key in ("success_rate_slo", "p95_latency_sla_seconds",
                                                 "queue_alert_threshold") else value
            for key, value in {**defaults, **answers}.items()}
    try:
        check_tenant_answers(tree, "tenant answers")
    except ConfigError as exc:
        return set(str(exc).splitlines())
    return set()


@pytest.mark.parametrize("answers", [
    {"tenant_id": "Zeta!"},
    {"tenant_id": "z"},
    {"tenant_id": "grafana"},
    {"tenant_id": "zeta", "display_name": ""},
    {"tenant_id": "zeta", "display_name": "x" * 61},
    {"tenant_id": "zeta", "owner_contact": "ab"},
    {"tenant_id": "zeta", "success_rate_slo": "lots"},
    {"tenant_id": "zeta", "success_rate_slo": "100"},
    {"tenant_id": "zeta", "p95_latency_sla_seconds": "0"},
    {"tenant_id": "zeta", "queue_alert_threshold": "2.5"},
    {"tenant_id": "Z", "queue_alert_threshold": "0", "success_rate_slo": "-1"},
    # issue 20's families, as the build refuses them
    {"tenant_id": "zeta", "owner_contact": "https://hooks.slack.com/services/T0000/B0000/SECRET"},
    {"tenant_id": "zeta", "owner_contact": "http://169.254.169.254/latest"},
    {"tenant_id": "zeta", "owner_contact": "oncall team"},
    {"tenant_id": "zeta", "display_name": "Acme\u202eproC"},
    {"tenant_id": "zeta", "display_name": "   "},
    {"tenant_id": "zeta", "success_rate_slo": "0.999"},
    {"tenant_id": "zeta", "queue_alert_threshold": "\u0663"},
], ids=lambda answers: ",".join(f"{k}={v[:8]}" for k, v in answers.items()))
def test_without_agentmon_the_hook_refuses_what_the_schema_refuses_in_the_same_words(repo, plain_python, answers):
    expected = schema_problems({"display_name": "Zeta", **answers})
    assert expected  # every case breaks the schema
    result = plain_bake(plain_python, repo, {"display_name": "Zeta", **answers})
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "ERROR: tenant not created: invalid answers"
    assert {line for line in lines if line.startswith("tenant answers: ")} == expected
    assert written(repo) == []


@pytest.mark.parametrize(("answers", "message"), [
    ({"tenant_id": "zeta\n"}, "tenant answers: tenant_id: 'zeta\\n' does not match the expected format "
                              "^[a-z][a-z0-9-]{0,29}[a-z0-9]$"),
    ({"tenant_id": "zeta", "success_rate_slo": "nan"},
     "tenant answers: success_rate_slo: 'nan' is not of type 'number'"),  # YAML reads nan as text, .nan as NaN
    ({"tenant_id": "zeta", "success_rate_slo": ".nan"},
     "tenant answers: success_rate_slo: must be a finite number, not NaN"),
    ({"tenant_id": "zeta", "p95_latency_sla_seconds": ".inf"},
     "tenant answers: p95_latency_sla_seconds: must be a finite number, not infinity"),
    # Arabic-Indic and full-width digits: Python's float() reads them, YAML (so the build) does not.
    ({"tenant_id": "zeta", "queue_alert_threshold": "\u0665\u0660"},
     "tenant answers: queue_alert_threshold: '\u0665\u0660' is not of type 'integer'"),
    ({"tenant_id": "zeta", "success_rate_slo": "\uff19\uff19"},
     "tenant answers: success_rate_slo: '\uff19\uff19' is not of type 'number'"),
])
def test_a_trailing_newline_or_a_non_finite_number_is_refused_with_or_without_agentmon(repo, plain_python, answers,
                                                                                       message):
    with_agentmon = agentmon_tenant(repo, *(f"{k}={v}" for k, v in answers.items()))
    without_agentmon = plain_bake(plain_python, repo, answers)
    for result in (with_agentmon, without_agentmon):
        assert result.returncode != 0
        assert message in result.stderr.splitlines()
    assert written(repo) == []


def test_every_answer_reaches_the_tenants_dashboard(repo):
    """Non-default answers (the defaults are 99.0 %, 120 s, 100 jobs, platform-ops@): the gauge turns green at
    the answered SLO, the budget is measured against its allowed failures, the SLA and queue lines sit at the
    answered values, and the owner is named on the dashboard."""
    assert cli.main(["--root", str(repo), "tenant", "tenant_id=zeta", "display_name=Zeta", "success_rate_slo=97.5",
                     "p95_latency_sla_seconds=60", "queue_alert_threshold=250",
                     "owner_contact=zeta-oncall@example.com"]) == 0
    assert cli.main(["--root", str(repo), "build"]) == 0
    board = json.loads((repo / "dashboards/zeta/tenant-zeta.json").read_text())
    gauge, budget = panel_by_title(board, "Success Rate vs SLO"), panel_by_title(board, "Error Budget Remaining (30 d)")
    assert [threshold_colour(v, field_style(gauge).steps) for v in (97.49, 97.5, 99.0)] == ["red", "green", "green"]
    assert budget["targets"][0]["expr"].endswith(" / 0.025)")  # 2.5 % of requests may fail
    assert budget["description"].startswith("Share of the 30-day error budget (2.5 % of requests may fail)")
    for title, line in (("Processing Latency p50 / p95 / p99", 60), ("Pending Jobs in Queue", 250)):
        panel = panel_by_title(board, title)
        assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed"}
        assert [s["value"] for s in field_style(panel).steps] == [None, line], title
    assert board["description"] == "Enhancement pipeline of tenant zeta. Owner: zeta-oncall@example.com"


def test_the_questions_refuse_what_the_build_refuses_and_ask_again(repo):
    """Each refused answer is explained and asked again (an SLO as a fraction, a display name another tenant has,
    a contact that is no address), so the tenant written builds; the prompts name what each answer is."""
    assert agentmon_tenant(repo, "tenant_id=acme", "display_name=Acme Corp").returncode == 0
    command = [sys.executable, "-m", "agentmon_cli", "--root", str(repo), "tenant"]
    answers = ["acme", "zeta", "ACME CORP", "Zeta", "0.999", "99.9", "", "", "oncall team", "ops@zeta.example.com"]
    asked = subprocess.run(command, input="\n".join(answers) + "\n", capture_output=True, text=True, timeout=60)
    assert asked.returncode == 0, asked.stderr
    assert asked.stderr.splitlines() == [
        "  refused: tenants/acme already exists: edit tenants/acme/tenant.yaml (then nox -s build validate), or run "
        "`agentmon tenant --overwrite ...` to replace it",
        "  refused: display_name: 'ACME CORP' is already the display name of tenant acme (compared ignoring case "
        "and Unicode compatibility forms): choose another",
        "  refused: success_rate_slo: 0.999 % leaves an error budget of 99.001 %: the 14.4x burn-rate alert (1h/5m) "
        "would need more than 100 % of requests to fail and could never fire; use an SLO of at least 93.0556 % (the "
        "SLO is a percentage: write 99.9 for 99.9 %, not 0.999)",
        "  refused: owner_contact: 'oncall team' is not an e-mail address (An email address must have an @-sign.); "
        "write an e-mail address, an https:// URL, or {webhook_secret: KEY}"]
    display_prompt = asked.stdout.split("Display name")[1].split("[")[0]
    assert display_prompt == (" (the dashboard's title, at most 60 characters, unique among tenants; the Grafana "
                              "folder is named by the tenant id) ")
    assert "channel" not in asked.stdout
    assert "as a percentage (99.5 means 99.5 % of requests succeed; not 0.995)" in asked.stdout
    assert (repo / "tenants/zeta/tenant.yaml").read_text().splitlines()[4:6] == [
        'display_name: "Zeta"', "success_rate_slo: 99.9          # percent of requests that must succeed"]
    assert cli.main(["--root", str(repo), "build"]) == 0


def test_overwrite_replaces_an_existing_tenant_and_only_then(repo):
    assert agentmon_tenant(repo, "tenant_id=zeta").returncode == 0
    replaced = agentmon_tenant(repo, "--overwrite", "tenant_id=zeta", "display_name=Zed")
    assert replaced.returncode == 0, replaced.stderr
    assert 'display_name: "Zed"' in (repo / "tenants/zeta/tenant.yaml").read_text()
    assert written(repo) == ["zeta", "zeta/tenant.yaml"]
