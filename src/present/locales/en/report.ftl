# The audit report (`vereffen audit report`): headings, anomaly kinds and
# findings, verification results, checkpoints. Each id has a Dutch twin in
# ../nl/report.ftl. Amounts and times come in already formatted; arguments
# are text (already escaped for HTML where the report is HTML).

report-title = Audit report
report-doc-title = Audit report: { $ledger }
report-ledger = Ledger
report-generated-from = generated from { $n } signed entries of this copy of ledger { $ledger }; no clock was read
report-meta-ledger-id = Ledger id
report-meta-entries = Entries
report-meta-head = Head hash
report-meta-root = Merkle root
report-meta-tree-size = (tree size { $n })
report-meta-skew = Clock skew tolerated
report-meta-skew-value = { $n } seconds
report-nav-parties = Parties and keys
report-contract = Contract { $contract }

report-anomalies = Anomalies
report-anomalies-count = Anomalies ({ $n })
report-anomalies-none = None found: no disputed or unresolved figures, no corrections after settlement, no settlement conflicts, every statement replays, no claimed times out of order, no key used after its revocation, no equivocation.
report-col-kind = Kind
report-col-concerns = Concerns
report-col-entry = Entry
report-col-finding = Finding
report-kind-equivocation = equivocation
report-kind-key-used-after-revocation = key used after revocation
report-kind-replay-differs = replay differs
report-kind-correction-after-settlement = correction after settlement
report-kind-settlement-conflict = settlement conflict
report-kind-disputed-figure = disputed figure
report-kind-unresolved-figure = unresolved figure
report-kind-contract-conflict = contract conflict
report-kind-time-out-of-order = claimed time out of order
report-kind-signed-before-period-end = signed before the period ended
report-kind-quality-gate-not-met = quality gate not met

report-about-settlement = { $contract } settlement
report-about-year = { $contract } { $year }
report-about-figure = { $contract } { $indicator } { $period }
report-about-contract = { $contract }
report-about-entry = entry { $seq } ({ $kind })
report-about-entry-by = entry { $seq } ({ $kind }) by { $party }
report-about-key = key { $key } of { $party }
report-about-origin = { $origin }

report-replay-differs = DIFFERS: { $why }
report-replay-match = MATCH ({ $n ->
    [one] 1 signing entry recomputed
   *[other] { $n } signing entries recomputed
})
report-settlement-conflict = { $what }
report-contract-conflict = { $what }
report-correction-after-settlement = { $source } corrected { $old } to { $new } at { $time } (reason: { $why }) after { $year } was settled with statement { $statement }; { $since }
report-no-reason-given = none given
report-not-yet-resettled = not yet resettled
report-since-resettled = since resettled
report-quality-gate-not-met = settled statement { $statement }: { $gate }
report-signed-early = { $what } at { $time }, before the period ended at { $end }
report-early-signed-statement = { $party } signed the { $year } statement { $statement }
report-early-submitted = { $party } submitted { $figure } for { $period }
report-early-attested = { $party } attested { $figure } for { $period }
report-figure-disputed = { $figure } by { $source } is disputed: { $disputes }
report-figure-pending = { $figure } by { $source } is pending: waiting for { $parties }
report-figure-conflict = { $figure } by { $source } conflicts with another live figure for the same period ({ $with }); neither counts until one is corrected
report-time-not-rfc3339 = claimed time { $time } is not an RFC 3339 time
report-time-before-reference = claims { $time } but references { $entry } ({ $kind } by { $party }) claimed at { $entry_time }
report-time-before-previous = claims { $time } but the previous entry by { $party } in this copy ({ $entry }, { $kind }) claims { $entry_time }
report-key-after-revocation = entry { $seq } ({ $kind }) claims { $time } but is signed with key { $key }, revoked ({ $why }) by { $revocation } which claims { $revocation_time }
report-void-entry = entry { $seq } ({ $kind }) is void: it is signed with key { $key }{ $via }, { $how } by { $ending } which does not have it in its causal past; it counts for nothing
report-void-introduced-by = { " " }(its key was introduced by void entry { $entry })
report-nothing = { "" }
report-key-revoked = revoked
report-key-retired = retired
report-key-ended = ended
report-equivocation-found = { $finding }: the keeper signed a tree of size { $size_a } with root { $root_a } and a tree of size { $size_b } with root { $root_b }; they cannot both be this copy's history

report-parties = Parties and key history
report-col-party = Party
report-col-name = Name
report-col-role = Role
report-col-key = Key
report-col-introduced = Introduced
report-col-ended = Ended
report-no-keys = no keys
report-key-valid = valid
report-key-introduced = { $time } by entry { $entry } (#{ $seq })
report-key-end = { $how }{ $reason } at { $time } by entry { $entry } (#{ $seq })
report-role-provider = provider
report-role-payer = payer
report-role-measurement-source = measurement source
report-role-auditor = auditor

report-base = Agreed base version: { $version }
report-conflict = Conflict: { $what }
report-in-force = In force per year
report-col-year = Year
report-col-governing = Governing version
report-versions = Versions and signatures
report-col-version = Version
report-col-state = State
report-col-signatories = Signatories
report-col-signed = Signed (party, by, when, entry)
report-vkind-proposal = proposal
report-vkind-counter = counter
report-vkind-amendment = amendment
report-vkind-answers = { $kind } of { $version }
report-from-year = from { $year }
report-under-mandate = { " " }(by { $party } under mandate)
report-rejected-by = rejected by { $party }
report-version-superseded = superseded by { $version } (in force)
report-version-agreed = agreed
report-version-pending = pending (waiting for { $parties })
report-version-rejected = rejected by { $parties }
report-version-withdrawn = withdrawn

report-measurements = Measurements
report-col-indicator = Indicator
report-col-period = Period
report-col-value = Value
report-col-source = Source
report-col-signed-by = Signed by
report-col-notes = Corrections, disputes, notes
report-mstate-agreed = agreed
report-mstate-pending = pending
report-mstate-disputed = disputed
report-mstate-superseded = superseded
report-mstate-conflict = conflict
report-figure-waiting-for = waiting for { $parties }
report-figure-disputed-by = disputed by { $parties }
report-figure-corrected-by = corrected by { $entry }
report-figure-conflicts-with = conflicts with { $entries }
report-figure-derived = metric { $metric } from file { $file } by rules { $rules }: { $counted } of { $read } rows counted
report-corrects = corrects { $entry }: { $why }
report-dispute-by = disputed by { $party }
report-dispute = { $who } at { $time } ({ $status }): { $reason }
report-dispute-resolved = resolved
report-dispute-open = open
report-note = note: { $text }
report-derived = derived: { $what }

report-settlements = Settlements
report-sstate-open = open
report-sstate-signed = signed
report-sstate-settled = settled
report-sstate-conflict = { $state }, conflict
report-settlement-summary = Governing version { $version }; signatories { $parties }; settled statement { $statement }{ $replaced }.
report-replaced-list = ; replaced { $list }
report-no-statement = No statement signed.
report-row-statement = Statement
report-row-starts-from = Starts from
report-row-inputs = Inputs
report-row-signed-by = Signed by
report-row-replay = Replay
report-standing-settled = settled
report-standing-replaced = replaced
report-standing-not-settled = not settled
report-inputs = { $n } measurement entries: { $ids }
report-replaces = { " " }(replaces { $statement })
report-derivation = Derivation (as this copy computes the signed statement)
report-col-figure = Figure
report-col-computation = Computation
report-payments = Payments (FROM -> TO)
report-col-from = From
report-col-to = To
report-col-funding = Funding stream
report-col-amount = Amount
report-on-balance = Per party on balance
report-col-on-balance = On balance
report-receives = receives { $amount }
report-pays = pays { $amount }
report-nothing-on-balance = nothing on balance

report-checkpoints = Checkpoints and cosignatures
report-no-checkpoints = No checkpoints recorded in this copy.
report-checkpoint-latest = Latest of { $n ->
    [one] 1 checkpoint
   *[other] { $n } checkpoints
}: tree size { $size }, root { $root }.
report-cosigned-by = Cosigned by: { $list }
report-cosigned-nobody = nobody
report-cosignature = { $witness } at { $time }
report-equivocations = Equivocation evidence
report-equivocations-none = None recorded or visible among the recorded checkpoints.

report-finding-same-size-different-root = same_size_different_root
report-equivocation-block = EQUIVOCATION: two signed checkpoints of { $origin } have the same tree size { $size } but different roots: the copy showed two different histories
    
    --- first checkpoint ---
    { $first }--- second checkpoint ---
    { $second }
