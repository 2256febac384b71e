# Een onderhandeling over een contract in woorden (`contract status`, de
# contractpagina van de webwerkplek): present/negotiation.rs.

neg-kind-proposal = voorstel
neg-kind-counter = tegenvoorstel op { $answers }
neg-kind-amendment = wijziging van { $amends } vanaf { $year }
neg-state-superseded = vervangen door { $version } (boeking { $entry }), die van kracht is
neg-state-agreed = overeengekomen
neg-state-pending = open: wacht op { $parties }
neg-state-rejected = afgewezen door { $parties }
neg-state-withdrawn = ingetrokken
neg-status-contract = contract { $id } "{ $title }"
neg-status-in-force = van kracht
neg-status-nothing-yet = nog niets
neg-status-conflict = CONFLICT
neg-status-versions = versies
neg-status-version = { $version }  { $kind } door { $parties }  [{ $state }]
neg-status-signed = ondertekend door { $party } op { $time } in boeking { $entry }
neg-status-signed-mandate = ondertekend door { $party } (getekend door { $signer } op grond van een mandaat) op { $time } in boeking { $entry }
neg-status-rejected = afgewezen door { $party }: { $reason }
neg-status-pending = open
neg-status-waits = { $version } wacht op { $parties }
