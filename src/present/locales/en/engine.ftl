# Words of the settlement engine's refusals and of a settled year's
# conflicts (`present::engine`): `settle` refusing a year, `settle status`,
# `settle summary`, `settle diff`, `settle accountability` and the audit
# report. The English is the engine's reference English (its `Display`),
# byte for byte. Each id has a Dutch twin in ../nl/engine.ftl.

engine-conflict-many-settled = { $n } statements are settled and none replaces the others ({ $hashes }): the signatories must agree on one and resettle
engine-conflict-input-void = input { $input } of the settled statement is void (signed with a key ended without it in the ending entry's causal past): the figure must be submitted again and { $year } resettled
engine-conflict-input-corrected = input { $indicator } { $period } ({ $input }) was corrected by { $by } after { $year } was settled: resettle { $year } to apply it
engine-conflict-input-disputed = input { $indicator } { $period } ({ $input }) of the settled statement is disputed by { $parties }
engine-conflict-previous-resettled = the settled statement starts from { $previous } statement { $recorded }, which was resettled as { $now }: resettle { $year }
engine-conflict-many-agreed = { $n } different versions were agreed ({ $hashes }); nothing is in force until the parties amend or resolve this
engine-conflict-many-amendments = { $n } amendments effective from { $year } were agreed ({ $hashes }); that year and later follow the last unambiguous version until resolved

engine-no-contract = there is no contract { $contract } in this ledger (`vereffen contract list` shows the contracts)
engine-not-in-force = contract { $contract } is not in force: nothing can be settled before every signatory has signed a version
engine-outside-term = { $year } lies outside the contract term { $first }-{ $last }
engine-carry-malformed = { $why }
engine-no-version = no version of { $contract } governs { $year }

engine-blocked = { $n } figure(s) of { $year } are not agreed:
engine-blocker = { $year } { $indicator } { $period }: { $state } (to act: { $parties })
engine-state-missing = missing
engine-state-pending = pending
engine-state-disputed = disputed
engine-state-conflict = conflict
engine-state-overflow = overflow
engine-cannot-settle = { $year } cannot be settled: { $why }
engine-cannot-settle-hint = (`vereffen measure list { $contract } --year { $year }` shows them; --draft computes a preview anyway)

engine-failed = { $year }: { $why }
engine-err-outside-term = year { $year } is outside the contract term { $first }-{ $last }
engine-err-carry-order = the carried state is for settling { $expected }, not { $year }: settle the years in order
engine-err-missing = missing figures: { $figures }
engine-err-figure = { $indicator } ({ $year })
engine-err-invalid = invalid figure { $figure }: { $reason }
engine-err-overflow = cannot compute { $figure }: overflow
engine-err-division-by-zero = cannot compute { $figure }: division by zero
engine-err-too-many-years = at most { $n } years can be settled at once
engine-err-not-canonical = the contract has no canonical form (validate it first): { $why }
