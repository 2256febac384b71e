# `vereffen inbox` as text. Dutch twin: ../nl/inbox.ftl.
inbox-every-party = every party
inbox-from-year = { " " }from { $year }
inbox-version-proposal = proposal
inbox-version-counter = counter
inbox-version-amendment = amendment
inbox-sign-version = { $contract }: { $kind } { $version }{ $from } offered by { $offered } awaits { $who }'s signature (waiting for { $waiting })
inbox-attest = { $contract }: figure { $indicator } { $period } = { $value } from { $source } awaits { $who }'s attestation (attest, or dispute with a reason)
inbox-disputed = { $contract }: { $who }'s figure { $indicator } { $period } = { $value } is disputed ({ $by }); correct it, or settle the dispute with the disputing party
inbox-resettlement = resettlement of { $hash } (replaces { $replaces })
inbox-statement = statement { $hash }
inbox-cosign = { $contract }: { $year } { $what } signed by { $signed } awaits { $who }'s co-signature
inbox-computable = { $contract }: { $year } is computable (every required figure agreed; statement { $hash }); nobody signed it yet
inbox-conflict = { $contract }{ $year }: CONFLICT: { $what }
inbox-figures-conflict = { $n } figures of { $indicator } { $period } are live at once ({ $source }): the source corrects one of them
inbox-equivocation = EQUIVOCATION: { $origin } signed two different histories of size { $size }; do not trust that copy's keeper until it is resolved
inbox-key-revoked = revoked
inbox-key-retired = retired
inbox-key-ended = key { $file } ({ $fingerprint }) of { $who } was { $ended }{ $why }: it can no longer sign in this ledger; use the party's current key
inbox-cannot-open = cannot open { $dir }: { $reason }
inbox-nothing = nothing awaits you
inbox-ledger-heading = == ledger { $ledger } ({ $n ->
    [one] { $n } item
   *[other] { $n } items
}) ==
inbox-total = { $items ->
    [one] { $items } item
   *[other] { $items } items
} in { $ledgers ->
    [one] { $ledgers } ledger
   *[other] { $ledgers } ledgers
}
