"""The atomic writer: interrupted and failing builds, with real processes killed mid-swap."""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentmon_bundle import writer
from agentmon_bundle.outputs import GENERATED_ROOTS
from agentmon_cli import main as cli
from agentmon_testkit import built_copy, edit_file

REPO = Path(__file__).resolve().parents[3]
GENERATED = GENERATED_ROOTS
ROOTS_TEXT = ", ".join(f"{root}/" for root in GENERATED_ROOTS)
# The committed generated files: what a build of the repository's configuration writes.
FILES = sum(1 for root in GENERATED_ROOTS for path in (REPO / root).rglob("*") if path.is_file())
RESTORED = ("interrupted build: an earlier build was interrupted while swapping in the generated folders; "
            f"restored the previous {ROOTS_TEXT} from .agentmon-staging-")

# A build in a fresh process that SIGKILLs itself just before its Nth rename inside the project: no clean-up
# handler, finally clause or atexit runs, exactly like `kill -9` from outside.
KILLED_AT_RENAME = textwrap.dedent("""
    import os, signal, sys
    from agentmon_cli import main as cli
    root, command, fatal = sys.argv[1], sys.argv[2], int(sys.argv[3])
    real_rename, renames = os.rename, []

    def rename(src, dst):
        if str(src).startswith(root):
            renames.append(src)
            if len(renames) == fatal:
                os.kill(os.getpid(), signal.SIGKILL)
        real_rename(src, dst)

    os.rename = rename
    sys.exit(cli.main(["--root", root, command]))
""")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return built_copy(tmp_path)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def generated(repo: Path) -> dict[str, bytes]:
    return generated_before(tree(repo))


def generated_before(files: dict[str, bytes]) -> dict[str, bytes]:
    return {rel: content for rel, content in files.items() if rel.startswith(GENERATED)}


def change_config(repo: Path) -> None:
    """A configuration change that touches every generated root, so old and new trees differ everywhere."""
    config = repo / "config/platform.yaml"
    edit_file(config, "refresh: 30s", "refresh: 1m")


def agentmon(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentmon_cli", "--root", str(repo), *args],
                          capture_output=True, text=True, timeout=300)


def killed(repo: Path, command: str, at_rename: int) -> None:
    result = subprocess.run([sys.executable, "-c", KILLED_AT_RENAME, str(repo), command, str(at_rename)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == -9, result.stderr


def staging_folders(repo: Path) -> list[Path]:
    return list(repo.glob(".agentmon-staging-*"))


# Renames of a build: 1 puts the swap journal in place, then two per root (the live folder out, the new one
# in): 2-3 dashboards, 4-5 provisioning, 6-7 base/generated, 8-9 rules. Killed before rename 3 dashboards/ is missing;
# before 4 the new dashboards/ sits beside the old provisioning/ and base/generated/; before 7 base/generated/
# is missing.
@pytest.mark.parametrize(("at_rename", "half_swapped"), [
    (3, lambda repo: not (repo / "dashboards").exists()),
    (4, lambda repo: (repo / "dashboards").exists() and (repo / "provisioning").exists()),
    (7, lambda repo: not (repo / "base/generated").exists()),
])
def test_validate_after_a_build_killed_mid_swap_says_so_and_restores_the_previous_tree(repo, at_rename,
                                                                                         half_swapped):
    before = tree(repo)
    change_config(repo)
    killed(repo, "build", at_rename)
    assert half_swapped(repo)
    result = agentmon(repo, "validate")
    assert RESTORED in " ".join(result.stderr.split())
    assert tree(repo) == {**before, "config/platform.yaml": (repo / "config/platform.yaml").read_bytes()}
    assert staging_folders(repo) == []
    assert result.returncode == 1  # the restored tree is the previous build's: stale for the changed config
    assert "dashboards/agentmon-system-health.json: differs from what the configuration generates" in result.stderr


def test_build_after_a_build_killed_mid_swap_restores_then_builds(repo):
    change_config(repo)
    killed(repo, "build", 4)
    result = agentmon(repo, "build")
    assert result.returncode == 0, result.stderr
    assert RESTORED in " ".join(result.stderr.split())
    assert staging_folders(repo) == []
    assert agentmon(repo, "validate").returncode == 0


def test_a_recovery_killed_midway_is_finished_by_the_next(repo):
    before = tree(repo)
    change_config(repo)
    killed(repo, "build", 4)
    killed(repo, "validate", 2)  # recovery: the new dashboards/ out (1), the old one back (2): killed between
    assert not (repo / "dashboards").exists()
    result = agentmon(repo, "validate")
    assert RESTORED in " ".join(result.stderr.split())
    assert generated(repo) == generated_before(before)


def test_a_build_killed_before_swapping_leaves_the_tree_and_its_staging_is_removed(repo):
    before = tree(repo)
    killed(repo, "build", 1)  # the journal's own rename: nothing swapped yet
    assert generated(repo) == generated_before(before)
    assert len(staging_folders(repo)) == 1
    result = agentmon(repo, "build")
    assert result.returncode == 0, result.stderr
    assert "left by a build interrupted before it changed any generated folder" in result.stderr
    assert staging_folders(repo) == []
    assert tree(repo) == before


def test_interrupted_build_leaves_the_previous_tree_intact(repo, monkeypatch):
    change_config(repo)
    before = tree(repo)
    real_rename = writer.os.rename
    calls = []

    def rename_then_fail(src, dst):
        calls.append(dst)
        if len(calls) == 4:  # after the first root was swapped in, while swapping the second
            raise KeyboardInterrupt
        real_rename(src, dst)

    monkeypatch.setattr(writer.os, "rename", rename_then_fail)
    with pytest.raises(KeyboardInterrupt):
        cli.main(["--root", str(repo), "build"])
    monkeypatch.setattr(writer.os, "rename", real_rename)
    assert tree(repo) == before
    assert staging_folders(repo) == []


def test_a_folder_that_cannot_be_renamed_is_a_one_line_error_and_the_tree_stays(repo, monkeypatch, capsys):
    """As root, chmod cannot make a folder read-only: the refusal is injected where the OS would raise it."""
    change_config(repo)
    before = tree(repo)
    real_rename = writer.os.rename
    locked = repo / "base/generated"

    def refuse_base_generated(src, dst):
        if Path(src) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(locked))
        real_rename(src, dst)

    monkeypatch.setattr(writer.os, "rename", refuse_base_generated)
    assert cli.main(["--root", str(repo), "build"]) == 1
    assert capsys.readouterr().err == (
        "error: cannot write the generated files: base/generated: Permission denied; make base/generated "
        "and the folder holding it writable, then build again (the generated folders were left as they were)\n")
    assert tree(repo) == before
    assert staging_folders(repo) == []


def test_a_full_disk_while_staging_is_a_one_line_error_and_the_tree_stays(repo, monkeypatch, capsys):
    change_config(repo)
    before = tree(repo)
    real_write = Path.write_bytes

    def disk_full(path: Path, content: bytes) -> int:
        if writer.STAGING_PREFIX in str(path) and path.name == "tenant-acme.json":
            raise OSError(errno.ENOSPC, "No space left on device")  # as write() raises it: no file name
        return real_write(path, content)

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    assert cli.main(["--root", str(repo), "build"]) == 1
    assert " ".join(capsys.readouterr().err.split()) == (
        "error: cannot write the generated files: dashboards/acme/tenant-acme.json: No space left on "
        f"device; free disk space on the file system holding {repo}, then build again (the generated folders "
        "were left as they were)")
    assert tree(repo) == before
    assert staging_folders(repo) == []


def test_build_reports_what_changed(repo, capsys):
    capsys.readouterr()
    assert cli.main(["--root", str(repo), "build"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"build ok: {FILES} files in {ROOTS_TEXT}: 0 written, {FILES} unchanged, 0 removed"]
    (repo / "dashboards/old-board.json").write_text("{}\n")
    tenant = repo / "tenants/acme/tenant.yaml"
    # its dashboard only, per target, and its SLO info series (the display_name label) in its tenant shard's rule
    # file and PrometheusRule (crc32("acme") % 32 = 30)
    edit_file(tenant, 'display_name: "Acme Corp"', 'display_name: "Acme Inc"')
    assert cli.main(["--root", str(repo), "build"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "  wrote dashboards/acme/tenant-acme.json",
        "  wrote rules/agentmon.limits-30.rules.yml",
        "  wrote rules/operator/limits-30.yaml",
        "  wrote targets/grafana-operator/tenant-acme.yaml",
        "  wrote targets/kube-prometheus-stack/dashboards/acme.yaml",
        "  removed dashboards/old-board.json",
        f"build ok: {FILES} files in {ROOTS_TEXT}: 5 written, {FILES - 5} unchanged, 1 removed"]


def test_entries_named_like_staging_that_are_not_folders_are_left_alone(repo, tmp_path):
    (repo / ".agentmon-staging-note").write_text("not ours\n")
    (repo / ".agentmon-staging-link").symlink_to(tmp_path)
    result = agentmon(repo, "build")
    assert result.returncode == 0, result.stderr
    assert (repo / ".agentmon-staging-note").read_text() == "not ours\n"
    assert (repo / ".agentmon-staging-link").is_symlink()


def test_a_journal_that_cannot_be_read_is_named_with_how_to_repair(repo):
    staging = repo / ".agentmon-staging-broken"
    (staging / "old").mkdir(parents=True)
    (staging / writer.JOURNAL).write_text('{"roots": ["../../etc"]}\n')
    before = tree(repo)
    result = agentmon(repo, "validate")
    assert result.returncode == 1
    assert " ".join(result.stderr.split()) == (
        "error: .agentmon-staging-broken/swap.json is not a journal this build wrote, so the generated folders "
        "cannot be put back automatically: compare .agentmon-staging-broken/old/ with the generated folders, "
        "restore what is missing, then delete .agentmon-staging-broken/ (nothing was changed)")
    assert tree(repo) == before


# --- recovery restores only from a saved copy and never deletes a live folder ----------------------------------

def damaged_message(staging: str, what: str) -> str:
    return (f"error: {staging}/{what}, so the generated folders cannot be put back automatically: compare "
            f"{staging}/old/ with the generated folders, restore what is missing, then delete {staging}/ "
            "(nothing was changed)")


@pytest.mark.parametrize("root, plant_old", [("rules", False), ("dashboards", True)])
def test_a_journal_naming_a_folder_with_no_saved_copy_changes_nothing(repo, root, plant_old):
    staging = repo / ".agentmon-staging-x"
    staging.mkdir()
    if plant_old:
        (staging / "old").mkdir()
    (staging / writer.JOURNAL).write_text(f'{{"roots": ["{root}"]}}\n')
    before = tree(repo)
    for command in ("validate", "build"):
        result = agentmon(repo, command)
        assert result.returncode == 1
        assert " ".join(result.stderr.split()) == damaged_message(
            ".agentmon-staging-x", f"swap.json names {root}/ but .agentmon-staging-x/ holds no saved copy of it")
        assert tree(repo) == before  # the live folder and the staging folder both stay


def test_saved_files_without_a_journal_are_kept(repo):
    saved = repo / ".agentmon-staging-y/old/rules"
    saved.mkdir(parents=True)
    (saved / "agentmon.rules.yml").write_text("the only copy\n")
    before = tree(repo)
    result = agentmon(repo, "validate")
    assert result.returncode == 1
    assert " ".join(result.stderr.split()) == damaged_message(
        ".agentmon-staging-y", ".agentmon-staging-y/old/ holds files but there is no swap.json")
    assert tree(repo) == before


# --- inputs that are not what they should be ---------------------------------------------------------------------

@pytest.mark.parametrize("root", ["rules", "base/generated"])
def test_a_generated_folder_that_is_a_symlink_is_refused(repo, tmp_path, root):
    elsewhere = tmp_path / "elsewhere"
    (repo / root).rename(elsewhere)
    (repo / root).symlink_to(elsewhere)
    before = tree(elsewhere)
    for command in ("build", "validate"):
        result = agentmon(repo, command)
        assert result.returncode == 1
        assert " ".join(result.stderr.split()) == (
            f"error: {root} is a symbolic link (to {elsewhere}); generated folders are written and checked in the "
            f"project itself: replace {root} with a real folder (or remove it: build recreates it)")
    assert (repo / root).is_symlink() and tree(elsewhere) == before


def test_a_file_in_place_of_a_generated_folder_is_refused(repo):
    (repo / "alertmanager").rename(repo / "alertmanager.saved")
    (repo / "alertmanager").write_text("not a folder\n")
    result = agentmon(repo, "build")
    assert result.returncode == 1
    assert result.stderr == ("error: alertmanager is a file, not the folder the generated files go to: move it away "
                             "(build recreates the folder)\n")
    assert (repo / "alertmanager").read_text() == "not a folder\n"


@pytest.mark.parametrize("command", ["build", "validate"])
def test_a_tenants_file_is_refused_before_anything_is_written(repo, command):
    (repo / "tenants").rename(repo / "tenants.saved")
    (repo / "tenants").write_text("acme\n")
    before = tree(repo)
    result = agentmon(repo, command)
    assert result.returncode == 2
    assert result.stderr.replace(f"{repo}/", "") == (
        "configuration error\ntenants: <document>: not a folder: tenants are defined in "
        "tenants/<tenant_id>/tenant.yaml (remove the file, or make it a folder)\n")
    assert tree(repo) == before


def test_unchanged_files_are_linked_not_written_again_and_changed_ones_are_new_files(repo):
    unchanged, changed = repo / "dashboards/globex/tenant-globex.json", repo / "dashboards/acme/tenant-acme.json"
    inodes = {path: path.stat().st_ino for path in (unchanged, changed)}
    edit_file(repo / "tenants/acme/tenant.yaml", 'display_name: "Acme Corp"', 'display_name: "Acme Inc"')
    assert cli.main(["--root", str(repo), "build"]) == 0
    assert unchanged.stat().st_ino == inodes[unchanged]
    assert unchanged.stat().st_nlink == 1  # the previous folder, its other name, is gone
    assert changed.stat().st_ino != inodes[changed]
    assert b'"Acme Inc' in changed.read_bytes()


def test_a_generated_file_that_is_a_symlink_is_written_as_a_file_and_its_target_left_alone(repo, tmp_path):
    """Same bytes as the render, so "unchanged": linking it would link (or follow) the symbolic link."""
    rel = "dashboards/globex/tenant-globex.json"
    outside = tmp_path / "outside.json"
    outside.write_bytes((repo / rel).read_bytes())
    (repo / rel).unlink()
    (repo / rel).symlink_to(outside)
    assert cli.main(["--root", str(repo), "build"]) == 0
    assert not (repo / rel).is_symlink()
    assert (repo / rel).read_bytes() == outside.read_bytes()
    assert outside.stat().st_nlink == 1


def test_a_build_refused_by_its_kustomize_checks_removes_its_staging_and_writes_nothing(repo, capsys):
    change_config(repo)
    edit_file(repo / "overlays/prod/kustomization.yaml", "namespace: monitoring", "namespace: Monitoring!")
    before = tree(repo)
    assert cli.main(["--root", str(repo), "build"]) == 1
    assert "build refused: nothing was written" in capsys.readouterr().err
    assert tree(repo) == before
    assert staging_folders(repo) == []
