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
    assert amtool_receivers(tmp_path, TREE, labels) == expected
    assert receivers_for(TREE, labels) == expected


def amtool_receivers(tmp_path, tree: dict, labels: dict[str, str]) -> list[str]:
    amtool = prerequisite("amtool")
    (tmp_path / "am.yml").write_text(json.dumps(tree))
    result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={tmp_path / 'am.yml'}",
                             *(f'{k}="{v}"'.replace('"hi"', '\\"hi\\"') for k, v in labels.items())],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip().split(",")  # amtool prints them comma-separated


# A route per tenant, as agentmon's routing has: the walker indexes children by the label most of them test for
# equality (here tenant); children that test it otherwise, or not at all, keep their place in the order.
TENANT_TREE = {
    "route": {"receiver": "root", "routes": [
        {"receiver": "t1", "matchers": ['tenant="t1"'], "continue": True},
        {"receiver": "any-critical", "matchers": ['severity="critical"'], "continue": True},
        {"receiver": "t2", "matchers": ['tenant="t2"']},
        {"receiver": "never", "matchers": ['tenant="t1"', 'tenant="t2"']},
        {"receiver": "t1-late", "matchers": ['tenant="t1"']},
        {"receiver": "t-regex", "matchers": ['tenant=~"t[0-9]+"', 'severity="page"']},
        {"receiver": "t3", "match": {"tenant": "t3"}},
        {"receiver": "t4-or-t5", "matchers": ['tenant=~"t4|t5"', 'tenant!="t4"']},
        {"receiver": "dot-is-any", "matchers": ['tenant=~"t.6"']},
    ]},
    "receivers": [{"name": n} for n in ("root", "t1", "any-critical", "t2", "never", "t1-late", "t-regex", "t3",
                                        "t4-or-t5", "dot-is-any")],
}
TENANT_CASES = {
    "keyed, unkeyed between, keyed again": ({"tenant": "t1", "severity": "critical"},
                                            ["t1", "any-critical", "t1-late"]),
    "keyed twice": ({"tenant": "t1"}, ["t1", "t1-late"]),
    "unkeyed before keyed": ({"tenant": "t2", "severity": "critical"}, ["any-critical", "t2"]),
    "a value no child names": ({"tenant": "t9", "severity": "critical"}, ["any-critical"]),
    "a value no child names reaches a regex": ({"tenant": "t9", "severity": "page"}, ["t-regex"]),
    "match map": ({"tenant": "t3"}, ["t3"]),
    "a list of names": ({"tenant": "t5"}, ["t4-or-t5"]),
    "a list of names, and a negative matcher": ({"tenant": "t4"}, ["root"]),
    "a dot matches any character": ({"tenant": "tx6"}, ["dot-is-any"]),
    "missing label": ({"severity": "info"}, ["root"]),
}


@pytest.mark.parametrize("labels, expected", TENANT_CASES.values(), ids=TENANT_CASES.keys())
def test_a_route_per_tenant_is_walked_as_amtool_walks_it(tmp_path, labels, expected):
    assert amtool_receivers(tmp_path, TENANT_TREE, labels) == expected
    assert receivers_for(TENANT_TREE, labels) == expected

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
