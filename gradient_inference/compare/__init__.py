"""gradient-compare: the same prompts on several models, one report of speed, cost and quality.

prompts.py reads and checks the prompts (with their `expect` checks); quality.py judges answers (expect checks and
a judge model); running.py sends every call (streamed, timed, resumable from --output); stats.py turns the answers
into the per-model figures and the recommendation; report.py renders them (table, markdown, bars)."""
