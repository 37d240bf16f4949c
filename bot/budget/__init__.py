"""Error budgets: a service's SLO, its incidents' impact, and what they spent of the budget.

Pure code, no chat or storage: `slo` reads the SLO (firebreak.yaml or an OpenSLO v1 file),
`impact` clips and merges impact intervals so overlapping time counts once, and `account` turns
them into a BudgetReport (consumed, remaining, burn rate, projected exhaustion) and tells which
announcement thresholds a change crossed.
"""
