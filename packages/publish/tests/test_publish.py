"""Publishing with real git into local bare repositories."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from agentmon_bundle.outputs import GENERATED_ROOTS
from agentmon_cli import main as cli
from agentmon_config import load_platform
from agentmon_publish import publish
from agentmon_testkit import edit_file

REPO = Path(__file__).resolve().parents[3]
SOURCE_DIRS = ("config", "base", "overlays", "components", "compose", "tenants", *GENERATED_ROOTS)
IDENTITY = ("-c", "user.name=Test", "-c", "user.email=test@example.com")


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *IDENTITY, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "source"
    for name in SOURCE_DIRS:
        shutil.copytree(REPO / name, root / name, dirs_exist_ok=True)  # base/generated is in base
    git("init", "-q", "-b", "main", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "source", cwd=root)
    return root


@pytest.fixture
def target(tmp_path: Path) -> Path:
    bare = tmp_path / "gitops.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    return bare


def run(source: Path, target: Path | str, *extra: str, path: str = "clusters/prod") -> int:
    return cli.main(["--root", str(source), "publish", "--repo", str(target), "--branch", "main",
                     "--path", path, *extra])


def commits(target: Path) -> list[str]:
    result = subprocess.run(["git", "--git-dir", str(target), "log", "--format=%s", "main"],
                            capture_output=True, text=True)
    return result.stdout.splitlines() if result.returncode == 0 else []


def show(target: Path, path: str) -> str:
    return subprocess.run(["git", "--git-dir", str(target), "show", f"main:{path}"], capture_output=True, text=True,
                          check=True).stdout


def files(target: Path) -> list[str]:
    return subprocess.run(["git", "--git-dir", str(target), "ls-tree", "-r", "--name-only", "main"],
                          capture_output=True, text=True, check=True).stdout.splitlines()


def test_first_publish_commits_one_file_per_resource_naming_the_source_commit(source, target, capsys):
    assert run(source, target) == 0
    head = git("rev-parse", "HEAD", cwd=source).strip()
    assert commits(target) == [f"agentmon: publish overlays/prod from {head[:12]}"]
    body = subprocess.run(["git", "--git-dir", str(target), "log", "-1", "--format=%b", "main"],
                          capture_output=True, text=True, check=True).stdout
    assert f"Source commit: {head}\n" in body
    manifests = [f"{name}.yaml" for name in (
        "alertmanagerconfig-agentmon-routing", "alertmanagerconfig-agentmon-routing-05",
        "configmap-grafana-dashboard-providers", "configmap-grafana-dashboards",
        "configmap-grafana-dashboards-tenants-0000", "configmap-grafana-dashboards-tenants-1001",  # acme, globex
        "configmap-grafana-datasources", "deployment-grafana", "networkpolicy-grafana",
        "prometheusrule-agentmon-alerts", "prometheusrule-agentmon-limits-26", "prometheusrule-agentmon-limits-30",
        "prometheusrule-agentmon-recording-rules", "service-grafana", "serviceaccount-grafana")]
    assert files(target) == sorted(f"clusters/prod/{m}" for m in [".agentmon-published", *manifests])
    assert json.loads(show(target, "clusters/prod/.agentmon-published")) == {
        "files": sorted(manifests), "overlay": "overlays/prod", "source_commit": head, "written_by": "agentmon publish"}
    assert "published overlays/prod (15 files)" in " ".join(capsys.readouterr().out.split())


def test_the_kube_prometheus_stack_target_publishes_one_file_per_dashboard_and_no_grafana(source, target, capsys):
    assert run(source, target, "--overlay", "kube-prometheus-stack", path="clusters/kps") == 0
    assert files(target) == sorted(f"clusters/kps/{name}" for name in (".agentmon-published", *(f"{n}.yaml" for n in (
        "alertmanagerconfig-agentmon-routing", "alertmanagerconfig-agentmon-routing-05",
        "configmap-dashboard-agentmon-system-health", "configmap-dashboard-agentmon-tenant-slos",
        "configmap-dashboard-tenant-acme",
        "configmap-dashboard-tenant-globex", "prometheusrule-agentmon-alerts", "prometheusrule-agentmon-limits-26",
        "prometheusrule-agentmon-limits-30", "prometheusrule-agentmon-recording-rules",
        "servicemonitor-agentmon-platform"))))
    assert "published overlays/kube-prometheus-stack (11 files)" in " ".join(capsys.readouterr().out.split())


def test_the_grafana_operator_target_publishes_folders_dashboards_and_the_datasource(source, target, capsys):
    assert run(source, target, "--overlay", "grafana-operator", path="clusters/operator") == 0
    assert files(target) == sorted(f"clusters/operator/{name}" for name in (".agentmon-published", *(
        f"{n}.yaml" for n in (
            "grafanadashboard-dashboard-agentmon-system-health", "grafanadashboard-dashboard-agentmon-tenant-slos",
            "grafanadashboard-dashboard-tenant-acme",
            "grafanadashboard-dashboard-tenant-globex", "grafanadatasource-agentmon-datasource",
            "grafanafolder-agentmon-acme", "grafanafolder-agentmon-globex"))))


def test_second_publish_without_changes_is_a_no_op(source, target, capsys):
    assert run(source, target) == 0
    assert run(source, target) == 0
    assert len(commits(target)) == 1
    assert "nothing changed" in capsys.readouterr().out


def test_two_concurrent_publishers_both_land(source, target, capsys):
    config = load_platform(source / "config/platform.yaml", source / "tenants")

    def args(path: str, overlay: str) -> publish.Request:
        return publish.Request(target=str(target), branch="main", path=path, overlay=overlay)

    # The dev publisher pushes between the prod publisher's commit and its push: prod's first push is
    # rejected, so it must fetch, re-apply its render on top of dev's commit and push again.
    def other_publisher_wins() -> None:
        assert publish.publish(source, config, args("clusters/dev", "dev")) == 0

    assert publish.publish(source, config, args("clusters/prod", "prod"), before_push=other_publisher_wins) == 0
    history = commits(target)
    assert [c.split(" from ")[0] for c in history] == [
        "agentmon: publish overlays/prod", "agentmon: publish overlays/dev"]
    tree = files(target)
    assert "clusters/dev/secret-grafana-admin.yaml" in tree
    assert "clusters/prod/deployment-grafana.yaml" in tree
    assert "someone else pushed to main first" in capsys.readouterr().out


def test_a_bundle_failing_validate_is_not_published(source, target, capsys):
    board = source / "dashboards/agentmon-system-health.json"
    edit_file(board, '"refresh": "30s"', '"refresh": "1s"')
    git("commit", "-qam", "hand edit", cwd=source)
    assert run(source, target) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "refusing to publish: validate failed" in err
    assert "dashboards/agentmon-system-health.json: differs from what the configuration generates" in err
    assert commits(target) == []


def test_dirty_source_is_refused_unless_allowed(source, target, capsys):
    (source / "notes.txt").write_text("wip\n")
    assert run(source, target) == 1
    assert "source tree has uncommitted changes" in capsys.readouterr().err
    assert commits(target) == []
    assert run(source, target, "--allow-dirty") == 0
    head = git("rev-parse", "HEAD", cwd=source).strip()
    body = subprocess.run(["git", "--git-dir", str(target), "log", "-1", "--format=%b", "main"],
                          capture_output=True, text=True, check=True).stdout
    assert f"Source commit: {head}-dirty\n" in body


def test_dry_run_names_a_changed_panel_query_and_writes_nothing(source, target, capsys):
    assert run(source, target) == 0
    tenant = source / "tenants/acme/tenant.yaml"
    edit_file(tenant, "success_rate_slo: 99.5", "success_rate_slo: 99.9")
    assert cli.main(["--root", str(source), "build"]) == 0
    git("commit", "-qam", "acme: tighter SLO", cwd=source)
    capsys.readouterr()
    assert run(source, target, "--dry-run") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert ("changed query: dashboard 'Acme Corp - Enhancement Pipeline' panel 'Error Budget Remaining (30 d)' "
            "query A:") in out
    assert "/ 0.005) -> 100 * (1 -" in out and out.count("/ 0.001)") == 1
    assert "changed dashboard panel 'Success Rate vs SLO'" not in out
    assert "changed resource ConfigMap/grafana-dashboards-tenants-0000" in out  # acme's shard
    assert "changed resource Deployment/grafana" in out
    assert len(commits(target)) == 1


def test_path_must_stay_inside_the_target(source, target, capsys):
    assert run(source, target, path="../escape") == 2
    assert "--path '../escape' must be a folder inside the target repository" in capsys.readouterr().err


def commit_to_target(target: Path, tmp_path: Path, plant) -> None:
    """Commit to the target's main branch what `plant(work_tree)` puts there, as another team would."""
    work = tmp_path / "target-work"
    git("init", "-q", "-b", "main", str(work), cwd=tmp_path)
    plant(work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "planted", cwd=work)
    git("push", "-q", str(target), "main", cwd=work)


def test_a_symlink_on_the_path_in_the_target_branch_is_refused_and_nothing_is_written(source, target, tmp_path,
                                                                                     capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    commit_to_target(target, tmp_path, lambda work: (work / "clusters").symlink_to(outside))
    before = commits(target)
    assert run(source, target) == 4
    err = " ".join(capsys.readouterr().err.split())
    assert (f"publish failed: clusters is a symbolic link in the target branch (to {outside}); --path must not go "
            "through links, which could write outside the repository") in err
    assert list(outside.iterdir()) == []
    assert commits(target) == before
    assert run(source, target, "--dry-run") == 4
    assert "clusters is a symbolic link in the target branch" in capsys.readouterr().err


def test_a_symlink_in_place_of_a_manifest_is_refused(source, target, tmp_path, capsys):
    victim = tmp_path / "victim.yaml"
    victim.write_text("kept\n")

    def plant(work: Path) -> None:
        (work / "clusters/prod").mkdir(parents=True)
        (work / "clusters/prod/deployment-grafana.yaml").symlink_to(victim)

    commit_to_target(target, tmp_path, plant)
    assert run(source, target) == 4
    assert ("clusters/prod/deployment-grafana.yaml is a symbolic link in the target branch (to "
            f"{victim}); a manifest must not go through links") in " ".join(capsys.readouterr().err.split())
    assert victim.read_text() == "kept\n"
    assert commits(target) == ["planted"]


@pytest.mark.parametrize("path", [".git", ".GIT/hooks", "clusters/.Git"])
def test_a_path_inside_git_data_is_refused(source, target, path, capsys):
    assert run(source, target, path=path) == 2
    assert f"error: --path '{path}' is inside .git, git's own data" in capsys.readouterr().err
    assert commits(target) == []


def test_a_relative_repo_path_is_relative_to_where_the_command_runs(source, target, tmp_path, monkeypatch, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert run(source, Path("../gitops.git"), "--dry-run") == 0
    assert "dry run: overlays/prod -> ../gitops.git main:clusters/prod (nothing written)" in capsys.readouterr().out
    assert run(source, Path("../gitops.git")) == 0
    assert len(commits(target)) == 1


def test_a_missing_local_repo_is_named_with_where_it_was_looked_for(source, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run(source, Path("../no-such-gitops")) == 2
    assert (f"error: --repo '../no-such-gitops': no such folder ({tmp_path}/../no-such-gitops)"
            in " ".join(capsys.readouterr().err.split()))


def test_urls_and_scp_like_targets_are_passed_to_git_as_given(tmp_path):
    for target in ("git@example.com:ops/gitops.git", "ssh://example.com/ops/gitops.git", "host:gitops"):
        assert publish.clone_source(target, tmp_path) == target


def test_an_unknown_overlay_is_a_one_line_usage_error(source, target, capsys):
    assert run(source, target, "--overlay", "staging") == 2
    err = capsys.readouterr().err
    assert err == ("error: --overlay 'staging': no such overlay in overlays/ "
                   "(have: dev, grafana-operator, kube-prometheus-stack, prod)\n")
    assert commits(target) == []


def test_user_text_in_messages_is_printed_literally(source, target, capsys):
    assert run(source, target, path="[/x]/../../up") == 2
    assert "error: --path '[/x]/../../up' must be a folder inside the target repository" in capsys.readouterr().err


@pytest.mark.parametrize("branch", ["-x", "a..b", "x[/y]", "main.lock"])
def test_an_invalid_branch_name_is_a_usage_error(source, target, branch, capsys):
    assert cli.main(["--root", str(source), "publish", "--repo", str(target), f"--branch={branch}",
                     "--path", "clusters/prod"]) == 2
    assert capsys.readouterr().err == f"error: --branch {branch!r} is not a valid git branch name\n"
    assert commits(target) == []


def test_a_repo_that_looks_like_an_option_is_refused(source, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run(source, Path("--upload-pack=touch pwned;:x")) == 2
    assert capsys.readouterr().err.startswith("error: --repo '--upload-pack=touch pwned;:x': a repository, not an "
                                              "option, must not start with '-'")
    assert not (tmp_path / "pwned").exists()


def test_a_file_in_place_of_a_folder_on_the_path_is_refused(source, target, tmp_path, capsys):
    commit_to_target(target, tmp_path, lambda work: (work / "clusters").write_text("a file\n"))
    assert run(source, target) == 4
    assert capsys.readouterr().err == ("publish failed: --path clusters/prod: clusters is a file in the target "
                                       "branch, not a folder; choose another --path\n")
    assert commits(target) == ["planted"]


def test_a_symlink_deeper_on_the_path_is_refused(source, target, tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()

    def plant(work: Path) -> None:
        (work / "clusters").mkdir()
        (work / "clusters/prod").symlink_to(outside)

    commit_to_target(target, tmp_path, plant)
    assert run(source, target) == 4
    assert "clusters/prod is a symbolic link in the target branch" in capsys.readouterr().err
    assert list(outside.iterdir()) == []


# --- publish owns only what it wrote --------------------------------------------------------------------------

def another_app(work: Path) -> None:
    (work / "clusters/prod").mkdir(parents=True)
    (work / "clusters/prod/other-app.yaml").write_text("kind: ConfigMap\nmetadata: {name: other}\n")
    (work / "clusters/prod/README.md").write_text("not ours\n")


def test_a_folder_holding_files_publish_did_not_write_is_refused_and_nothing_is_written(source, target, tmp_path,
                                                                                      capsys):
    commit_to_target(target, tmp_path, another_app)
    assert run(source, target) == 4
    assert capsys.readouterr().err == (
        "publish failed: clusters/prod/ holds 2 file(s) publish did not write: README.md, other-app.yaml; publish "
        "owns the whole folder it writes to: choose a folder of its own with --path, or pass --replace-unowned to "
        "remove them\n")
    assert commits(target) == ["planted"]
    assert files(target) == ["clusters/prod/README.md", "clusters/prod/other-app.yaml"]


def test_the_dry_run_refuses_the_same_folder_and_a_sibling_folder_is_fine(source, target, tmp_path, capsys):
    commit_to_target(target, tmp_path, another_app)
    assert run(source, target, "--dry-run") == 4
    assert "holds 2 file(s) publish did not write: README.md, other-app.yaml" in capsys.readouterr().err
    assert run(source, target, path="clusters/prod-agentmon") == 0
    assert "clusters/prod/other-app.yaml" in files(target) and "clusters/prod/README.md" in files(target)
    assert commits(target)[1:] == ["planted"]


def test_replace_unowned_takes_the_folder_over_and_the_dry_run_lists_each_file(source, target, tmp_path, capsys):
    commit_to_target(target, tmp_path, another_app)
    assert run(source, target, "--dry-run", "--replace-unowned") == 0
    out = capsys.readouterr().out.splitlines()
    assert "  add file deployment-grafana.yaml" in out
    assert "  remove file README.md (not written by publish)" in out
    assert "  remove file other-app.yaml (not written by publish)" in out
    assert "  removed resource ConfigMap/other" in out
    assert sum(line.startswith("  add file ") for line in out) == 15  # prod's 15 manifests
    assert commits(target) == ["planted"]
    assert run(source, target, "--replace-unowned") == 0
    assert "clusters/prod/other-app.yaml" not in files(target) and len(files(target)) == 16  # and the marker


def test_a_file_publish_wrote_earlier_is_removed_when_the_render_drops_it(source, target, capsys):
    assert run(source, target, "--overlay", "dev") == 0
    assert "clusters/prod/secret-grafana-admin.yaml" in files(target)
    capsys.readouterr()
    assert run(source, target, "--dry-run") == 0
    out = capsys.readouterr().out.splitlines()
    assert "  remove file secret-grafana-admin.yaml" in out
    assert "  removed resource Secret/grafana-admin" in out
    assert run(source, target) == 0
    assert "clusters/prod/secret-grafana-admin.yaml" not in files(target)
    assert json.loads(show(target, "clusters/prod/.agentmon-published"))["overlay"] == "overlays/prod"


def test_a_record_publish_did_not_write_is_refused(source, target, tmp_path, capsys):
    def plant(work: Path) -> None:
        (work / "clusters/prod").mkdir(parents=True)
        (work / "clusters/prod/.agentmon-published").write_text('{"files": ["../../escape.yaml"]}\n')

    commit_to_target(target, tmp_path, plant)
    assert run(source, target) == 4
    assert capsys.readouterr().err == (
        "publish failed: clusters/prod/.agentmon-published in the target branch is not a record publish wrote "
        "('files' is not a list of file names); delete it in the target repository, or pass --replace-unowned to "
        "take the folder over\n")
    assert commits(target) == ["planted"]


@pytest.mark.parametrize("name, content", [
    ("aliases.yaml", "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"),
    ("deep.yaml", "[" * 5000 + "]" * 5000 + "\n"),
    ("list.yaml", "- kind: ConfigMap\n"),
    ("board.yaml", 'kind: ConfigMap\nmetadata: {name: legacy}\ndata: {x: [1], y: "{\\"uid\\": 1}"}\n'),
])
def test_the_dry_run_reads_a_hostile_file_it_owns_without_a_traceback(source, target, tmp_path, name, content,
                                                                      capsys):
    def plant(work: Path) -> None:
        (work / "clusters/prod").mkdir(parents=True)
        (work / "clusters/prod" / name).write_text(content)
        (work / "clusters/prod/.agentmon-published").write_text(json.dumps({"files": [name]}))

    commit_to_target(target, tmp_path, plant)
    assert run(source, target, "--dry-run") == 0
    out = capsys.readouterr().out.splitlines()
    assert f"  remove file {name}" in out
    readable = name == "board.yaml"
    assert ("  removed resource ConfigMap/legacy" in out) == readable
    assert any(line.startswith(f"  file {name}: not ") and line.endswith("; compared as text only")
               for line in out) != readable


# --- refusals are reported, not retried -------------------------------------------------------------------------

def test_a_push_to_a_checked_out_branch_prints_gits_reason_once(source, tmp_path, capsys):
    checked_out = tmp_path / "checked-out"
    git("init", "-q", "-b", "main", str(checked_out), cwd=tmp_path)
    (checked_out / "README.md").write_text("gitops\n")
    git("add", "-A", cwd=checked_out)
    git("commit", "-qm", "start", cwd=checked_out)
    assert run(source, checked_out) == 5
    captured = capsys.readouterr()
    assert captured.err == ("publish failed: the target refused the push to main: refusing to update checked out "
                            "branch: refs/heads/main (branch is currently checked out)\n")
    assert "someone else pushed" not in captured.out
    assert git("log", "--format=%s", cwd=checked_out).splitlines() == ["start"]


def test_a_push_declined_by_a_hook_prints_the_hooks_words(source, target, capsys):
    hook = target / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected: open a pull request' >&2\nexit 1\n")
    hook.chmod(0o755)
    assert run(source, target) == 5
    captured = capsys.readouterr()
    assert captured.err == ("publish failed: the target refused the push to main: main is protected: open a pull "
                            "request (pre-receive hook declined)\n")
    assert "someone else pushed" not in captured.out
    assert commits(target) == []


@pytest.mark.parametrize("setting", ["gpg.program=false", "gpg.program=/nonexistent/gpg"])
def test_a_failing_git_commit_is_a_one_line_error(source, target, tmp_path, monkeypatch, setting, capsys):
    config = tmp_path / "gitconfig"
    key, value = setting.split("=")
    section, name = key.split(".")
    config.write_text(f"[commit]\n\tgpgsign = true\n[{section}]\n\t{name} = {value}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    assert run(source, target) == 6
    err = capsys.readouterr().err
    assert err.startswith("publish failed: git commit failed in the clone of the target (nothing was pushed): ")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert commits(target) == []


@pytest.mark.parametrize("scheme", ["git", "http"])
def test_a_server_that_never_answers_is_a_one_line_timeout(source, scheme, capsys):
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections, never answers
        url = f"{scheme}://127.0.0.1:{silent.getsockname()[1]}/gitops.git"
        assert run(source, url, "--timeout", "2") == 6
    assert capsys.readouterr().err == (
        "publish failed: git clone gave no answer within 2 s (a server that does not respond, or a network that "
        "drops the connection); check the --repo address, or raise --timeout\n")


# --- options refused before anything runs ----------------------------------------------------------------------

@pytest.mark.parametrize("branch, why", [("@", " (git reads '@' as the current commit)"),
                                         ("HEAD", " (git reads 'HEAD' as the current commit)"), ("@{-1}", "")])
def test_a_branch_git_reads_as_another_commit_is_refused(source, target, branch, why, capsys):
    assert cli.main(["--root", str(source), "publish", "--repo", str(target), f"--branch={branch}",
                     "--path", "clusters/prod"]) == 2
    assert capsys.readouterr().err == f"error: --branch {branch!r} is not a valid git branch name{why}\n"
    assert commits(target) == []


@pytest.mark.parametrize("path, hidden", [(".github/workflows", ".github"), ("clusters/.prod", ".prod")])
def test_a_dot_folder_path_is_refused(source, target, path, hidden, capsys):
    assert run(source, target, path=path) == 2
    assert capsys.readouterr().err == (
        f"error: --path {path!r} goes through the dot-folder {hidden!r} (tool settings such as .github/workflows, "
        "never manifests): choose a folder whose names do not start with '.'\n")
    assert commits(target) == []


@pytest.mark.parametrize("timeout", ["0", "-5"])
def test_a_timeout_must_be_above_zero(source, target, timeout, capsys):
    with pytest.raises(SystemExit) as exited:
        run(source, target, "--timeout", timeout)
    assert exited.value.code == 2
    assert f"argument --timeout: {timeout!r}: expected a number of seconds above 0" in capsys.readouterr().err


def test_publish_help_lists_every_exit_status(capsys):
    with pytest.raises(SystemExit):
        cli.main(["publish", "--help"])
    help_text = capsys.readouterr().out
    for status in ("0", "1", "2", "3", "4", "5", "6", "7"):
        assert f"\n  {status}  " in help_text


def test_a_race_lost_on_every_attempt_gives_up_with_its_own_status(source, target, tmp_path, capsys):
    config = load_platform(source / "config/platform.yaml", source / "tenants")
    rival = tmp_path / "rival"
    git("clone", "-q", str(target), str(rival), cwd=tmp_path)
    pushes = []

    def rival_pushes_first() -> None:  # another team's commit lands between each of our commits and its push
        pushes.append(len(pushes) + 1)
        (rival / "notes.txt").write_text(f"push {len(pushes)}\n")
        git("add", "-A", cwd=rival)
        git("commit", "-qm", f"rival {len(pushes)}", cwd=rival)
        git("push", "-q", "origin", "HEAD:main", cwd=rival)

    request = publish.Request(target=str(target), branch="main", path="clusters/prod")
    with pytest.raises(publish.PublishError) as failed:
        publish.publish(source, config, request, before_push=rival_pushes_first)
    assert failed.value.exit_code == 7
    assert str(failed.value) == ("gave up after 5 attempts: someone else pushed to main before each of them; "
                                 "publish again once the other publisher is done")
    out = capsys.readouterr().out.splitlines()
    assert [line.split("(")[1] for line in out if line.startswith("someone else pushed")] == [
        f"attempt {n} of 5)" for n in (2, 3, 4, 5)]
    assert pushes == [1, 2, 3, 4, 5]
    assert commits(target) == [f"rival {n}" for n in (5, 4, 3, 2, 1)]


GLOBEX_FILE = "configmap-grafana-dashboards-tenants-1001.yaml"  # globex's shard (CRC-32 96b39afa), globex alone


def test_a_tenant_removed_since_the_last_publish_is_named_and_nothing_unchanged_is_reported(source, target, capsys):
    """globex leaves: its dashboard ConfigMap goes, its routing and the recording rules' tenant list change.
    The dry run names the removed file, dashboard and resource; the files that did not change (acme's dashboards,
    the datasource, the Service...) are neither added nor changed; nothing is written."""
    assert run(source, target) == 0
    published = files(target)
    assert f"clusters/prod/{GLOBEX_FILE}" in published
    shutil.rmtree(source / "tenants/globex")
    assert cli.main(["--root", str(source), "build"]) == 0
    git("add", "-A", cwd=source)
    git("commit", "-qm", "globex leaves", cwd=source)
    capsys.readouterr()
    assert run(source, target, "--dry-run") == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"  remove file {GLOBEX_FILE}" in lines
    assert "  removed dashboard 'Globex - Enhancement Pipeline'" in lines
    assert "  removed resource ConfigMap/grafana-dashboards-tenants-1001" in lines
    assert [line for line in lines if "added" in line or "add file" in line] == []
    assert [line for line in lines if "acme" in line] == []  # acme's dashboard ConfigMap did not change
    assert (files(target), len(commits(target))) == (published, 1)
    said_removed = {f"clusters/prod/{line.removeprefix('  remove file ')}" for line in lines
                    if line.startswith("  remove file ")}

    assert run(source, target) == 0
    assert set(published) - set(files(target)) == said_removed  # what the dry run said, exactly
    capsys.readouterr()
    assert run(source, target, "--dry-run") == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["  no changes"]
