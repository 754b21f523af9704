"""The kustomize render cache: the same tree is read back, any changed byte renders again, and it can be turned off."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from agentmon_bundle.outputs import render
from agentmon_checks import identity, kustomize
from agentmon_checks.kustomize import render_overlays
from agentmon_config import load_platform

REPO = Path(__file__).resolve().parents[3]
FILES = render(load_platform(REPO / "config/platform.yaml", REPO / "tenants")).files


def prod(files: dict[str, bytes]) -> list[dict]:
    (overlay,) = render_overlays(REPO, files, with_components=(), only=("prod",))
    return overlay.objects


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("AGENTMON_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("AGENTMON_NO_CACHE", raising=False)
    return tmp_path / "kustomize"


def test_a_second_render_of_the_same_tree_is_read_from_the_cache(cache):
    first = prod(FILES)
    (entry,) = cache.iterdir()
    assert json.loads(zlib.decompress(entry.read_bytes())) == first
    # what the entry holds is what a render of the same tree returns: proven by planting another answer
    entry.write_bytes(zlib.compress(json.dumps([{"kind": "Planted"}]).encode()))
    assert prod(FILES) == [{"kind": "Planted"}]


def test_one_changed_byte_in_the_tree_renders_again(cache):
    prod(FILES)
    name = "dashboards/acme/tenant-acme.json"
    changed = {**FILES, name: FILES[name].replace(b'"Acme Corp', b'"Acme Corq', 1)}
    objects = prod(changed)
    assert len(list(cache.iterdir())) == 2
    acme = next(o for o in objects if o["metadata"]["name"].startswith("grafana-dashboards-tenants-0000"))
    assert "Acme Corq" in acme["data"]["acme_tenant-acme.json"]


def test_an_unreadable_entry_is_rendered_again_and_replaced(cache):
    first = prod(FILES)
    (entry,) = cache.iterdir()
    entry.write_bytes(b"not zlib")
    assert prod(FILES) == first
    assert json.loads(zlib.decompress(entry.read_bytes())) == first


def test_no_cache_writes_nothing(cache, monkeypatch):
    monkeypatch.setenv("AGENTMON_NO_CACHE", "1")
    assert [o["kind"] for o in prod(FILES)].count("Deployment") == 1
    assert not cache.exists()


def test_only_the_newest_entries_are_kept(cache, monkeypatch):
    monkeypatch.setattr(kustomize, "CACHE_ENTRIES", 2)
    name = "dashboards/acme/tenant-acme.json"
    for n in range(3):
        prod({**FILES, name: FILES[name].replace(b'"Acme Corp', f'"Acme {n}'.encode(), 1)})
    assert len(list(cache.iterdir())) == 2


def test_a_given_tree_gets_only_the_hand_written_inputs_and_nothing_when_every_render_is_cached(cache, tmp_path):
    """A build's staging folder holds the generated files already; kustomize renders there."""
    tree = tmp_path / "staged"
    kustomize.write_tree(tree, FILES)
    staged_inode = (tree / "dashboards/acme/tenant-acme.json").stat().st_ino
    with kustomize.OverlayRenders(REPO, FILES, with_components=(), only=("prod",), tree=tree) as renders:
        (first,) = renders.results()
    assert (tree / "overlays/prod/kustomization.yaml").read_bytes() == \
        (REPO / "overlays/prod/kustomization.yaml").read_bytes()
    assert (tree / "dashboards/acme/tenant-acme.json").stat().st_ino == staged_inode  # not written again
    empty = tmp_path / "empty"
    empty.mkdir()
    with kustomize.OverlayRenders(REPO, FILES, with_components=(), only=("prod",), tree=empty) as renders:
        (second,) = renders.results()
    assert second.objects == first.objects
    assert list(empty.iterdir()) == []


def test_the_tree_in_memory_is_the_tree_on_disk_variants_included():
    files, jobs = kustomize.kustomize_tree(REPO, FILES, ("prod",), ("prod",))
    assert jobs == [("prod", "overlays/prod"), ("prod+demo-stack", "overlays/prod--demo-stack"),
                    ("prod+ingress", "overlays/prod--ingress"),
                    ("prod+servicemonitor", "overlays/prod--servicemonitor")]
    variant = YAML(typ="safe").load(files["overlays/prod--ingress/kustomization.yaml"])
    assert variant["components"] == ["../../components/prometheus-rules", "../../components/alertmanager-config",
                                     "../../components/ingress"]
    assert files["base/kustomization.yaml"] == (REPO / "base/kustomization.yaml").read_bytes()
    assert not any(rel.startswith("base/generated/") and rel not in FILES for rel in files)


def counted_renders(cache: Path, key: str, calls: list[str]) -> list:
    def digest(overlay: kustomize.RenderedOverlay) -> list:
        calls.append(overlay.name)
        return [overlay.name, sum(o["kind"] == "Deployment" for o in overlay.objects)]

    with kustomize.OverlayRenders(REPO, FILES, with_components=(), only=("prod",), digest=digest,
                                  digest_key=key) as renders:
        return renders.digests()


def test_what_the_checks_found_is_kept_under_its_key_and_used_instead_of_checking_again(cache):
    calls: list[str] = []
    assert counted_renders(cache, "config-1", calls) == [["prod", 1]]
    assert counted_renders(cache, "config-1", calls) == [["prod", 1]]
    assert calls == ["prod"]
    assert counted_renders(cache, "config-2", calls) == [["prod", 1]]  # another configuration: checked again
    assert calls == ["prod", "prod"]
    verdicts = cache.with_name("kustomize-verdicts")
    assert len(list(verdicts.iterdir())) == 2
    for entry in verdicts.iterdir():  # what is kept is what is used: proven by planting another answer
        entry.write_bytes(zlib.compress(json.dumps(["prod", "planted"]).encode()))
    assert counted_renders(cache, "config-1", calls) == [["prod", "planted"]]
    assert calls == ["prod", "prod"]


def test_without_the_cache_every_render_is_checked(cache, monkeypatch):
    monkeypatch.setenv("AGENTMON_NO_CACHE", "1")
    calls: list[str] = []
    counted_renders(cache, "config-1", calls)
    counted_renders(cache, "config-1", calls)
    assert calls == ["prod", "prod"]
    assert not cache.with_name("kustomize-verdicts").exists()


def test_the_checks_identity_follows_a_checker_binary_on_path(tmp_path, monkeypatch):
    before = identity.checks_identity.__wrapped__()
    assert identity.checks_identity.__wrapped__() == before
    (tmp_path / "amtool").write_text("#!/bin/sh\n")
    (tmp_path / "amtool").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert identity.checks_identity.__wrapped__() != before


def test_an_entry_is_the_json_of_the_render_written_an_object_at_a_time():
    objects = [{"kind": "ConfigMap", "data": {"a.json": "{\"é\": 1}\n"}}, {}, {"n": [1, 2.5, None, True]}]
    assert zlib.decompress(kustomize._compressed_json(objects)) == json.dumps(objects).encode()
    assert zlib.decompress(kustomize._compressed_json([])) == b"[]"
