"""validate's Alertmanager routing walker against the real `amtool config routes test`, on a tree that uses what
the walker must get right: continue, a child without a receiver, the older match / match_re maps, quoted and bare
matcher values with escapes, negative matchers, a regular expression that is not a list of names, and a missing
label matched as "". Inhibition: equal labels, missing labels, and an alert never inhibiting itself."""

from __future__ import annotations

import json
import subprocess

import pytest

from agentmon_checks.amroutes import inhibits, parse_matcher, receivers_for
from agentmon_testkit import prerequisite

TREE = {
    "route": {"receiver": "root", "routes": [
        {"receiver": "a", "matchers": ['team="a"'], "continue": True,
         "routes": [{"matchers": ["severity=~crit.*"]},  # inherits "a"
                    {"receiver": "a-pager", "matchers": ['severity!="info"']}]},
        {"receiver": "b", "match": {"team": "b"}},
        {"receiver": "regex", "match_re": {"service": "api-[0-9]+"}},
        {"receiver": "quoted", "matchers": ['note="say \\"hi\\""']},
        {"receiver": "no-team", "matchers": ['team=""', 'env!~"dev|test"']},
        {"receiver": "catch-a", "matchers": ['team=~"a|z"']},
    ]},
    "receivers": [{"name": n} for n in ("root", "a", "a-pager", "b", "regex", "quoted", "no-team", "catch-a")],
}
CASES = {
    "team a, critical: inherits a, then continue": ({"team": "a", "severity": "critical"}, ["a", "catch-a"]),
    "team a, warning: second child": ({"team": "a", "severity": "warning"}, ["a-pager", "catch-a"]),
    "team a, info: no child matches": ({"team": "a", "severity": "info"}, ["a", "catch-a"]),
    "match map": ({"team": "b"}, ["b"]),
    "match_re map, anchored": ({"team": "c", "service": "api-12"}, ["regex"]),
    "match_re needs the whole value": ({"team": "c", "service": "xapi-12"}, ["root"]),
    "escaped quotes": ({"team": "c", "note": 'say "hi"'}, ["quoted"]),
    "missing label is empty": ({"env": "prod"}, ["no-team"]),
    "negative regex": ({"env": "dev"}, ["root"]),
}


@pytest.mark.parametrize("labels, expected", CASES.values(), ids=CASES.keys())
def test_the_walker_and_amtool_name_the_same_receivers(tmp_path, labels, expected):
    amtool = prerequisite("amtool")
    (tmp_path / "am.yml").write_text(json.dumps(TREE))
    result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={tmp_path / 'am.yml'}",
                             *(f'{k}="{v}"'.replace('"hi"', '\\"hi\\"') for k, v in labels.items())],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip().split(",") == expected  # amtool prints them comma-separated
    assert receivers_for(TREE, labels) == expected


def test_matcher_texts_parse_as_alertmanager_reads_them():
    assert parse_matcher('alertname = "Watchdog"') == ("alertname", "=", "Watchdog")
    assert parse_matcher("severity =~ warning|info") == ("severity", "=~", "warning|info")
    assert parse_matcher('x!="a\\\\b\\nc"') == ("x", "!=", "a\\b\nc")


def test_inhibition_needs_equal_labels_and_two_different_alerts():
    rule = {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "tenant_id"]}
    page = {"alertname": "X", "severity": "critical", "tenant_id": "acme"}
    assert inhibits(rule, page, {**page, "severity": "warning"})
    assert not inhibits(rule, page, {**page, "severity": "warning", "tenant_id": "globex"})
    assert inhibits(rule, {"alertname": "X", "severity": "critical"}, {"alertname": "X", "severity": "warning"})
    both = {"source_matchers": ['a="1"'], "target_matchers": ['a="1"']}
    assert not inhibits(both, {"a": "1"}, {"a": "1"})
