"""Alert and recording rules from the rule packs (rules/*.yaml), and their promtool unit tests."""
