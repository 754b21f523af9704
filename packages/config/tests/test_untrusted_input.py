"""Tenant files and platform.yaml are untrusted input (issue 20): every family of hostile or careless input is
refused by the real `agentmon build` with one line naming file, line, field and the allowed form, and nothing is
written. Each family holds the variant the issue reported and at least one it did not."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from agentmon_cli import main as cli
from agentmon_config import ConfigError, Contact, load_platform

REPO = Path(__file__).resolve().parents[3]
TENANT = "tenant_id: zeta\ndisplay_name: Zeta\n"
SECRET_HINT = ("a secret may not be written here; put the URL in the webhook Secret and write {webhook_secret: KEY} "
               "(docs/operations/alerts.md#secrets)")
FORMS = "write an e-mail address, an https:// URL, or {webhook_secret: KEY}"
INSIDE = ("the shared Alertmanager would call inside the network; use a public https:// host, or list the host in "
          "alerts.allowed_webhook_hosts in config/platform.yaml")
TEMPLATE = "holds {{ or }}, which Prometheus and Alertmanager would run as a template: write the text without them"
FORMAT = "write plain text on one line"
SAME_NAME = ("is already the display name of tenant acme (compared ignoring case and Unicode compatibility forms): "
             "choose another")
DEEP = "<document>: nested more than 20 levels deep: a configuration needs a few levels; flatten it"


def owner(value: str) -> str:
    return TENANT + f"owner_contact: {value}\n"


# id -> (tenants/zeta/tenant.yaml, the error after "tenants/zeta/tenant.yaml:")
TENANT_CASES = {
    # 1. secrets written inline
    "slack-webhook": (owner("https://hooks.slack.com/services/T0000/B0000/SECRET"),
                      "3: owner_contact: 'https://hooks.slack.com/...' is a hooks.slack.com URL, which carries its "
                      f"token in the URL: {SECRET_HINT}"),
    "discord-webhook": (owner("https://discord.com/api/webhooks/123/abc"),
                        "3: owner_contact: 'https://discord.com/...' is a discord.com URL, which carries its token in "
                        f"the URL: {SECRET_HINT}"),
    "password-in-url": (owner("https://ops:hunter2@pager.example.com/hook"),
                        "3: owner_contact: 'https://pager.example.com/...' holds credentials (user:password@): "
                        f"{SECRET_HINT}"),
    "user-only-in-url": (owner("https://token@pager.example.com/hook"),
                         "3: owner_contact: 'https://pager.example.com/...' holds credentials (user:password@): "
                         f"{SECRET_HINT}"),
    "token-query": (owner("https://pager.example.com/hook?token=abc"),
                    "3: owner_contact: 'https://pager.example.com/...' has a query parameter 'token' that carries a "
                    f"credential: {SECRET_HINT}"),
    "api-key-query": (owner("https://pager.example.com/hook?Api_Key=abc"),
                      "3: owner_contact: 'https://pager.example.com/...' has a query parameter 'Api_Key' that "
                      f"carries a credential: {SECRET_HINT}"),
    "random-path-segment": (owner("https://pager.example.com/hooks/a8F3kd92LmQx7Zp1"),
                            "3: owner_contact: 'https://pager.example.com/...' has a path segment that looks like a "
                            "token (16+ characters mixing cases and digits, or 20+ hex): " + SECRET_HINT),
    "hex-path-segment": (owner("https://pager.example.com/hooks/3f2a9c1e8b7d4f6a0c5e"),
                         "3: owner_contact: 'https://pager.example.com/...' has a path segment that looks like a "
                         "token (16+ characters mixing cases and digits, or 20+ hex): " + SECRET_HINT),
    # 2. text Alertmanager would run as a template
    "template-in-contact": (owner("'{{ len .Alerts }}-{{ .CommonLabels.alertname }}@example.com'"),
                            "3: owner_contact: '{{ len .Alerts }}-{{ .CommonLabels.alertname }}@example.com' "
                            + TEMPLATE),
    "broken-template-in-contact": (owner("'{{ .Foo@example.com'"),
                                   f"3: owner_contact: '{{{{ .Foo@example.com' {TEMPLATE}"),
    "closing-braces-in-name": ("tenant_id: zeta\ndisplay_name: 'Zeta }}'\n",
                               f"2: display_name: 'Zeta }}}}' {TEMPLATE}"),
    # 4. contacts validated as what they are
    "upper-case-scheme": (owner("HTTPS://pager.example.com/hook"),
                          f"3: owner_contact: 'HTTPS://pager.example.com/hook' is not an https:// URL with a host: "
                          f"{FORMS}"),
    "mailto": (owner("mailto:oncall@example.com"),
               f"3: owner_contact: 'mailto:oncall@example.com' is not an https:// URL with a host: {FORMS}"),
    "leading-space": (owner("' https://pager.example.com/hook'"),
                      f"3: owner_contact: ' https://pager.example.com/hook' starts or ends with a space: {FORMS} "
                      "without them"),
    "not-an-address": (owner("oncall team"), "3: owner_contact: 'oncall team' is not an e-mail address (An email "
                                             f"address must have an @-sign.); {FORMS}"),
    "channel": (owner("'#zeta-oncall'"), "3: owner_contact: '#zeta-oncall' is not an e-mail address (An email "
                                         f"address must have an @-sign.); {FORMS}"),
    "plain-http": (owner("http://pager.example.com/hook"),
                   "3: owner_contact: 'http://pager.example.com/hook' is plain http://: webhooks must use https:// "
                   "(or list the host in alerts.allowed_webhook_hosts in config/platform.yaml)"),
    "loopback": (owner("http://127.0.0.1:9090/-/quit"),
                 "3: owner_contact: 'http://127.0.0.1:9090/-/quit' is plain http://: webhooks must use https:// (or "
                 "list the host in alerts.allowed_webhook_hosts in config/platform.yaml)"),
    "loopback-https": (owner("https://127.0.0.1:9090/-/quit"),
                       "3: owner_contact: 'https://127.0.0.1:9090/-/quit' points at the non-public address "
                       f"127.0.0.1: {INSIDE}"),
    "ipv6-loopback": (owner("https://[::1]/hook"),
                      f"3: owner_contact: 'https://[::1]/hook' points at the non-public address ::1: {INSIDE}"),
    "mapped-loopback": (owner("https://[::ffff:127.0.0.1]/hook"),
                        "3: owner_contact: 'https://[::ffff:127.0.0.1]/hook' points at the non-public address "
                        f"127.0.0.1: {INSIDE}"),
    "metadata": (owner("https://169.254.169.254/latest/meta-data"),
                 "3: owner_contact: 'https://169.254.169.254/latest/meta-data' points at the non-public address "
                 f"169.254.169.254: {INSIDE}"),
    "private": (owner("https://10.0.0.5/hook"),
                f"3: owner_contact: 'https://10.0.0.5/hook' points at the non-public address 10.0.0.5: {INSIDE}"),
    "cluster-service": (owner("https://alertmanager.monitoring.svc:9093/-/reload"),
                        "3: owner_contact: 'https://alertmanager.monitoring.svc:9093/-/reload' points at the internal "
                        f"host name alertmanager.monitoring.svc: {INSIDE}"),
    "namespace-short-name": (owner("https://alertmanager.monitoring:9093/-/reload"),
                             "3: owner_contact: 'https://alertmanager.monitoring:9093/-/reload' points at "
                             "alertmanager.monitoring, whose last label 'monitoring' is no public domain (inside a "
                             f"cluster it names a namespace): {INSIDE}"),
    "internal-name": (owner("https://metadata.google.internal/computeMetadata"),
                      "3: owner_contact: 'https://metadata.google.internal/computeMetadata' points at the internal "
                      f"host name metadata.google.internal: {INSIDE}"),
    "single-label": (owner("https://alertmanager/hook"),
                     "3: owner_contact: 'https://alertmanager/hook' points at the single-label host name alertmanager "
                     f"(resolved inside the network): {INSIDE}"),
    "localhost-dot": (owner("https://localhost./hook"),
                      f"3: owner_contact: 'https://localhost./hook' points at the internal host name localhost: "
                      f"{INSIDE}"),
    "hex-address": (owner("https://0x7f.0.0.1/hook"),
                    "3: owner_contact: 'https://0x7f.0.0.1/hook' points at 0x7f.0.0.1, a numeric host that resolves "
                    f"as an address: {INSIDE}"),
    "address-spelled-in-name": (owner("https://127.0.0.1.nip.io/hook"),
                                "3: owner_contact: 'https://127.0.0.1.nip.io/hook' points at 127.0.0.1.nip.io, which "
                                f"spells out the address 127.0.0.1 (such names resolve to it): {INSIDE}"),
    "escaped-host": (owner("https://%6c%6fcalhost/hook"),
                     "3: owner_contact: 'https://%6c%6fcalhost/hook': write the host without %-escapes"),
    "port-zero": (owner("https://pager.example.com:0/hook"),
                  "3: owner_contact: 'https://pager.example.com:0/hook': the port must be a number from 1 to 65535"),
    "secret-key-traversal": (owner("{webhook_secret: ..}"),
                             "3: owner_contact: webhook_secret: '..' is not a Kubernetes Secret key (letters, digits, "
                             "-, _ and ., at most 253 characters, not . or .. or starting with ..)"),
    "secret-reference-extra": (owner("{webhook_secret: zeta, url: https://pager.example.com}"),
                               "3: owner_contact.url: unknown field (check the spelling; see the schema for allowed "
                               "fields)"),
    # 6. lookalikes, control characters, lengths, YAML tricks
    "bidi-override": ('tenant_id: zeta\ndisplay_name: "Acme\\u202eproC"\n',
                      "2: display_name: 'Acme\\u202eproC' holds an invisible Unicode format character (U+202E): "
                      + FORMAT),
    "zero-width": ('tenant_id: zeta\ndisplay_name: "Ac\\u200bme Corp"\n',
                   "2: display_name: 'Ac\\u200bme Corp' holds an invisible Unicode format character (U+200B): "
                   + FORMAT),
    "bidi-isolate": ('tenant_id: zeta\ndisplay_name: "Zeta\\u2066"\n',
                     f"2: display_name: 'Zeta\\u2066' holds an invisible Unicode format character (U+2066): {FORMAT}"),
    "nul": ('tenant_id: zeta\ndisplay_name: "Ze\\0ta"\n',
            f"2: display_name: 'Ze\\x00ta' holds a control character (U+0000): {FORMAT}"),
    "tab-in-contact": (owner('"ops@example.com\\t"'),
                       f"3: owner_contact: 'ops@example.com\\t' holds a control character (U+0009): {FORMAT}"),
    "blank-name": ("tenant_id: zeta\ndisplay_name: '   '\n", "2: display_name: '   ' is blank: write a name"),
    "no-break-space-name": ('tenant_id: zeta\ndisplay_name: "\\u00a0"\n',
                            "2: display_name: '\\xa0' is blank: write a name"),
    "long-contact": (owner("'" + "x" * 100_000 + "@example.com'"),
                     "3: owner_contact: '" + "x" * 76 + "... is 100012 characters long: an e-mail address has at "
                     "most 254"),
    "long-url": (owner("https://pager.example.com/" + "a/" * 1100),
                 "3: owner_contact: 'https://pager.example.com/" + "a/" * 25 + "... is 2226 characters long: a "
                 "webhook URL has at most 2048"),
    "same-name": ("tenant_id: zeta\ndisplay_name: Acme Corp\n", f"2: display_name: 'Acme Corp' {SAME_NAME}"),
    "same-name-other-case": ("tenant_id: zeta\ndisplay_name: ACME corp\n", f"2: display_name: 'ACME corp' {SAME_NAME}"),
    "same-name-full-width": ('tenant_id: zeta\ndisplay_name: "\\uff21cme Corp"\n',
                             f"2: display_name: '\uff21cme Corp' {SAME_NAME}"),
    "cyrillic-lookalike": ('tenant_id: zeta\ndisplay_name: "\u0410cme Corp"\n',
                           "2: display_name: '\u0410cme Corp' mixes Cyrillic and Latin letters, which can pass for "
                           "another name: write it in one script"),
    "yaml-directive": ("%YAML 1.1\n---\n" + TENANT, "1: <document>: YAML directives (%YAML, %TAG) are not supported: "
                                                    "this file is YAML 1.2 core; remove the directive line"),
    "tag-directive": ("%TAG !e! tag:example.com,2000:\n---\n" + TENANT,
                      "1: <document>: YAML directives (%YAML, %TAG) are not supported: this file is YAML 1.2 core; "
                      "remove the directive line"),
    "merge-key": (TENANT + "<<: {owner_contact: ops@example.com}\n",
                  "3: <document>: YAML merge keys (<<) are not supported: write every field out"),
    "merge-key-nested": (TENANT + "owner_contact:\n  <<: {webhook_secret: zeta}\n",
                         "4: <document>: YAML merge keys (<<) are not supported: write every field out"),
    "nested-1000": (TENANT + "owner_contact: " + "[" * 1000 + "]" * 1000 + "\n", f"3: {DEEP}"),
    "nested-50000": (TENANT + "owner_contact: " + "[" * 50_000 + "]" * 50_000 + "\n", f"3: {DEEP}"),
    "nested-mappings": (TENANT + "owner_contact: " + "{a: " * 30 + "1" + "}" * 30 + "\n", f"3: {DEEP}"),
}

# id -> (a line of config/platform.yaml, its replacement, the error after "config/platform.yaml:<that line>: ")
PLATFORM_CASES = {
    "operations-slack": ("  operations_contact: platform-ops@example.com",
                         "  operations_contact: https://hooks.slack.com/services/T1/B1/XYZ",
                         "alerts.operations_contact: 'https://hooks.slack.com/...' is a hooks.slack.com URL, "
                         f"which carries its token in the URL: {SECRET_HINT}"),
    "operations-internal-http": ("  operations_contact: platform-ops@example.com",
                                 "  operations_contact: http://relay.monitoring.svc:8080/hook",
                                 "alerts.operations_contact: 'http://relay.monitoring.svc:8080/hook' is plain "
                                 "http://: webhooks must use https:// (or list the host in "
                                 "alerts.allowed_webhook_hosts in config/platform.yaml)"),
    "grafana-javascript": ("  grafana_url: http://localhost:3000", "  grafana_url: javascript:alert(1)",
                           "alerts.grafana_url: 'javascript:alert(1)' does not match the expected format "
                           "^https?://[^\\s/?#]+(/[^\\s?#]*[^\\s?#/])?$"),
    "grafana-quote": ("  grafana_url: http://localhost:3000",
                      "  grafana_url: \"http://grafana.example.com/a'onmouseover=x\"",
                      "alerts.grafana_url: \"http://grafana.example.com/a'onmouseover=x\" holds characters a link "
                      "may not (spaces, quotes, non-ASCII)"),
    "runbooks-query-template": ("  runbooks_url: docs/operations/runbooks.md",
                                "  runbooks_url: '{{ with query \"vector(6*7)\" }}{{ . }}{{ end }}'",
                                "alerts.runbooks_url: '{{ with query \"vector(6*7)\" }}{{ . }}{{ end }}' "
                                + TEMPLATE),
    "runbooks-data": ("  runbooks_url: docs/operations/runbooks.md", "  runbooks_url: data:text/html,hi",
                      "alerts.runbooks_url: 'data:text/html,hi' is not an http:// or https:// URL with a host"),
    "runbooks-space": ("  runbooks_url: docs/operations/runbooks.md",
                       "  runbooks_url: 'https://wiki.example.com/run books'",
                       "alerts.runbooks_url: 'https://wiki.example.com/run books' holds characters a link may not "
                       "(spaces, quotes, non-ASCII)"),
    "smtp-port-0": ("  smtp_smarthost: smtp.example.com:587", "  smtp_smarthost: smtp.example.com:0",
                    "alerts.smtp_smarthost: 'smtp.example.com:0': the port must be a number from 1 to 65535"),
    "smtp-port-99999": ("  smtp_smarthost: smtp.example.com:587", "  smtp_smarthost: smtp.example.com:99999",
                        "alerts.smtp_smarthost: 'smtp.example.com:99999': the port must be a number from 1 to "
                        "65535"),
    "smtp-port-65536": ("  smtp_smarthost: smtp.example.com:587", "  smtp_smarthost: smtp.example.com:65536",
                        "alerts.smtp_smarthost: 'smtp.example.com:65536': the port must be a number from 1 to "
                        "65535"),
    "smtp-no-port": ("  smtp_smarthost: smtp.example.com:587", "  smtp_smarthost: smtp.example.com",
                     "alerts.smtp_smarthost: 'smtp.example.com' is not host:port, e.g. smtp.example.com:587"),
    "smtp-from": ("  smtp_from: alertmanager@example.com", "  smtp_from: alertmanager",
                  "alerts.smtp_from: 'alertmanager' is not an e-mail address (An email address must have an "
                  "@-sign.); write an e-mail address"),
    "part-of-label": ("    release: kube-prometheus-stack",
                      "    app.kubernetes.io/part-of: other\n    release: kube-prometheus-stack",
                      "rules.prometheus_rule_labels.app.kubernetes.io/part-of: 'app.kubernetes.io/part-of' is "
                      "reserved: agentmon sets the app.kubernetes.io/* labels of what it generates; use a label of "
                      "your own"),
    "name-label": ("  alertmanager_config_labels: {}", "  alertmanager_config_labels: {app.kubernetes.io/name: x}",
                   "alerts.alertmanager_config_labels.app.kubernetes.io/name: 'app.kubernetes.io/name' is "
                   "reserved: agentmon sets the app.kubernetes.io/* labels of what it generates; use a label of your "
                   "own"),
    "title-template": ("  title: AI Agents - System Health & Performance", "  title: 'AI Agents {{ 7 }}'",
                       f"main_dashboard.title: 'AI Agents {{{{ 7 }}}}' {TEMPLATE}"),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("config", "tenants"):
        shutil.copytree(REPO / name, tmp_path / name)
    return tmp_path


def set_alerts(project: Path, **values: str) -> Path:
    """config/platform.yaml with these alerts.* settings replaced (each line is `  key: value  # comment`)."""
    platform = project / "config/platform.yaml"
    lines = platform.read_text().splitlines()
    for key, value in values.items():
        index = next(n for n, line in enumerate(lines) if line.startswith(f"  {key}: "))
        lines[index] = f"  {key}: {value}"
    platform.write_text("\n".join(lines) + "\n")
    return platform


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def refused_by_build(project: Path, capfd: pytest.CaptureFixture[str]) -> str:
    """Run the real `agentmon build`; assert it refused (exit 2) and wrote nothing; return its one-line error."""
    before = snapshot(project)
    assert cli.main(["--root", str(project), "build"]) == 2
    assert snapshot(project) == before
    err = capfd.readouterr().err
    headline, message, rest = err.split("\n", 2)
    assert (headline, rest) == ("configuration error", "")
    return message.replace(f"{project}/", "")


@pytest.mark.parametrize("case", TENANT_CASES, ids=str)
def test_a_hostile_tenant_file_is_refused_in_one_line_and_nothing_is_written(project, capfd, case):
    text, expected = TENANT_CASES[case]
    (project / "tenants/zeta").mkdir()
    (project / "tenants/zeta/tenant.yaml").write_text(text)
    started = time.monotonic()
    assert refused_by_build(project, capfd) == f"tenants/zeta/tenant.yaml:{expected}"
    assert time.monotonic() - started < 5  # 50,000 levels of nesting fail at once, not after minutes


@pytest.mark.parametrize("case", PLATFORM_CASES, ids=str)
def test_a_hostile_platform_file_is_refused_in_one_line_and_nothing_is_written(project, capfd, case):
    line, replacement, expected = PLATFORM_CASES[case]
    platform = project / "config/platform.yaml"
    number = next(n for n, text in enumerate(platform.read_text().splitlines(), 1) if text.startswith(line))
    platform.write_text(platform.read_text().replace(line, replacement, 1))
    assert refused_by_build(project, capfd) == f"config/platform.yaml:{number}: {expected}"


def test_a_tenant_file_linked_to_etc_passwd_is_refused_without_reading_it(project, capfd):
    (project / "tenants/zeta").mkdir()
    (project / "tenants/zeta/tenant.yaml").symlink_to("/etc/passwd")
    message = refused_by_build(project, capfd)
    assert message == ("tenants/zeta/tenant.yaml: <document>: is a symbolic link: configuration is read only from "
                       "real files and folders inside the project (copy the file here instead)")
    assert "root:" not in message


@pytest.mark.parametrize("link", ["folder-outside", "folder-inside", "tenants", "platform"])
def test_linked_tenant_folders_tenants_itself_and_platform_yaml_are_refused(project, capfd, tmp_path_factory, link):
    """Siblings: a tenant folder linked outside the project, one linked to another tenant inside it, the tenants
    folder itself, and config/platform.yaml."""
    outside = tmp_path_factory.mktemp("outside")
    (outside / "zeta").mkdir()
    (outside / "zeta/tenant.yaml").write_text(TENANT)
    where = {"folder-outside": "tenants/zeta", "folder-inside": "tenants/zeta", "tenants": "tenants",
             "platform": "config/platform.yaml"}[link]
    target = {"folder-outside": outside / "zeta", "folder-inside": project / "tenants/acme", "tenants": outside,
              "platform": outside / "platform.yaml"}[link]
    if link == "platform":
        shutil.move(project / "config/platform.yaml", target)
    elif link == "tenants":
        shutil.rmtree(project / "tenants")
    (project / where).symlink_to(target)
    assert refused_by_build(project, capfd) == (f"{where}: <document>: is a symbolic link: configuration is read only "
                                                "from real files and folders inside the project (copy the file here "
                                                "instead)")


def test_a_tenants_file_instead_of_a_folder_is_refused_rather_than_dropping_every_tenant(project, capfd):
    shutil.rmtree(project / "tenants")
    (project / "tenants").write_text("acme\n")
    assert refused_by_build(project, capfd) == ("tenants: <document>: not a folder: tenants are defined in "
                                                "tenants/<tenant_id>/tenant.yaml (remove the file, or make it a "
                                                "folder)")


def test_an_allowed_internal_host_a_secret_reference_and_an_address_are_accepted(project):
    """The allowed forms: a host listed in alerts.allowed_webhook_hosts (even plain http, in the cluster), a
    Secret reference, and a public https:// webhook; the secret's URL never reaches the configuration."""
    platform = set_alerts(project, operations_contact="http://relay.monitoring.svc:8080/hook",
                          allowed_webhook_hosts="[relay.monitoring.svc]", webhook_secret_name="team-webhooks")
    (project / "tenants/zeta").mkdir()
    (project / "tenants/zeta/tenant.yaml").write_text(owner("{webhook_secret: zeta.pager}"))
    (project / "tenants/yeta").mkdir()
    (project / "tenants/yeta/tenant.yaml").write_text(
        "tenant_id: yeta\ndisplay_name: Yeta\nowner_contact: https://pager.example.com/hooks/yeta\n")
    config = load_platform(platform, project / "tenants")
    owners = {t.tenant_id: t.owner_contact for t in config.tenants}
    assert config.alerts.operations_contact == Contact(url="http://relay.monitoring.svc:8080/hook")
    assert owners["zeta"] == Contact(secret_name="team-webhooks", secret_key="zeta.pager")
    assert owners["yeta"] == Contact(url="https://pager.example.com/hooks/yeta")
    assert str(owners["yeta"]) == "a webhook"  # what a dashboard may show


def test_an_allowed_host_is_exact_not_a_suffix(project):
    platform = set_alerts(project, operations_contact="https://evil.relay.monitoring.svc/hook",
                          allowed_webhook_hosts="[relay.monitoring.svc]")
    with pytest.raises(ConfigError) as info:
        load_platform(platform)
    assert "points at the internal host name evil.relay.monitoring.svc" in str(info.value)


def test_a_huge_file_is_refused_before_it_is_read(project, capfd):
    (project / "tenants/zeta").mkdir()
    (project / "tenants/zeta/tenant.yaml").write_text(TENANT + "# " + "x" * 1_000_000 + "\n")
    # 16 + 19 bytes of TENANT, "# ", a million x and a newline: 1,000,038 bytes
    assert refused_by_build(project, capfd) == ("tenants/zeta/tenant.yaml: <document>: is 1000038 bytes, more than a "
                                                "configuration file needs (1000000): is it the right file?")


def test_a_folder_named_with_a_newline_or_a_bidi_override_stays_one_visible_line(project, capfd):
    (project / "tenants/zeta\u202e\n").mkdir()
    (project / "tenants/zeta\u202e\n/tenant.yaml").write_text(TENANT)
    assert refused_by_build(project, capfd) == ("tenants/zeta\\u202e\\n/tenant.yaml:1: tenant_id: 'zeta' must equal "
                                                "its folder name 'zeta\\u202e\\n'")
