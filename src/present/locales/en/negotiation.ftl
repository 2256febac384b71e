# A contract's negotiation in words (`contract status`, the web's contract
# page): present/negotiation.rs.

neg-kind-proposal = proposal
neg-kind-counter = counter to { $answers }
neg-kind-amendment = amendment of { $amends } from { $year }
neg-state-superseded = superseded by { $version } (entry { $entry }), which is in force
neg-state-agreed = agreed
neg-state-pending = pending: waiting for { $parties }
neg-state-rejected = rejected by { $parties }
neg-state-withdrawn = withdrawn
neg-status-contract = contract { $id } "{ $title }"
neg-status-in-force = in force
neg-status-nothing-yet = nothing yet
neg-status-conflict = CONFLICT
neg-status-versions = versions
neg-status-version = { $version }  { $kind } by { $parties }  [{ $state }]
neg-status-signed = signed by { $party } at { $time } in entry { $entry }
neg-status-signed-mandate = signed by { $party } (signed by { $signer } under mandate) at { $time } in entry { $entry }
neg-status-rejected = rejected by { $party }: { $reason }
neg-status-pending = pending
neg-status-waits = { $version } waits for { $parties }
