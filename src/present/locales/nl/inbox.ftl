# `vereffen inbox` als tekst. Engelse tweeling: ../en/inbox.ftl.
inbox-every-party = elke partij
inbox-from-year = { " " }vanaf { $year }
inbox-version-proposal = voorstel
inbox-version-counter = tegenvoorstel
inbox-version-amendment = wijziging
inbox-sign-version = { $contract }: { $kind } { $version }{ $from } aangeboden door { $offered } wacht op de handtekening van { $who } (wacht op { $waiting })
inbox-attest = { $contract }: cijfer { $indicator } { $period } = { $value } van { $source } wacht op akkoord van { $who } (akkoord geven, of betwisten met een reden)
inbox-disputed = { $contract }: cijfer { $indicator } { $period } = { $value } van { $who } wordt betwist ({ $by }); corrigeer het, of los het geschil op met de betwistende partij
inbox-resettlement = herafrekening { $hash } (vervangt { $replaces })
inbox-statement = afrekening { $hash }
inbox-cosign = { $contract }: { $year } { $what } ondertekend door { $signed } wacht op de medeondertekening van { $who }
inbox-computable = { $contract }: { $year } is berekenbaar (alle benodigde cijfers akkoord; afrekening { $hash }); nog niemand heeft ondertekend
inbox-conflict = { $contract }{ $year }: CONFLICT: { $what }
inbox-figures-conflict = { $n } cijfers voor { $indicator } { $period } gelden tegelijk ({ $source }): de aanleverende partij corrigeert er één
inbox-equivocation = DUBBELSPEL: { $origin } ondertekende twee verschillende geschiedenissen van omvang { $size }; vertrouw de beheerder van die kopie niet tot dit is opgelost
inbox-key-revoked = ingetrokken
inbox-key-retired = buiten gebruik gesteld
inbox-key-ended = sleutel { $file } ({ $fingerprint }) van { $who } is { $ended }{ $why }: hij kan in dit grootboek niet meer ondertekenen; gebruik de huidige sleutel van de partij
inbox-cannot-open = kan { $dir } niet openen: { $reason }
inbox-nothing = er wacht niets op u
inbox-ledger-heading = == grootboek { $ledger } ({ $n ->
    [one] { $n } punt
   *[other] { $n } punten
}) ==
inbox-total = { $items ->
    [one] { $items } punt
   *[other] { $items } punten
} in { $ledgers ->
    [one] { $ledgers } grootboek
   *[other] { $ledgers } grootboeken
}
