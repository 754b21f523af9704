from __future__ import annotations

import pytest

from agentmon_dashboards.queries import _outcome_ratio, error_budget_remaining_percent

WINDOW_RATIO = _outcome_ratio('tenant_id="t"', "failure", by="", window="30d")


@pytest.mark.parametrize(("slo", "allowed"), [
    (99.5, "0.005"), (95, "0.05"), (99, "0.01"), (99.9, "0.001"), (99.999, "0.00001"),
    # Float arithmetic rounded to 10 places made this budget 0 (a division by zero); decimals keep it.
    (99.99999999999, "0.0000000000001"), (12.345678901234567, "0.87654321098765433"),
])
def test_error_budget_is_derived_exactly_from_the_slo(slo, allowed):
    assert error_budget_remaining_percent('tenant_id="t"', slo) == f"100 * (1 - {WINDOW_RATIO} / {allowed})"


def test_an_slo_of_100_has_no_budget_and_is_refused():
    with pytest.raises(ValueError, match="SLO 100 % leaves no error budget"):
        error_budget_remaining_percent('tenant_id="t"', 100)
