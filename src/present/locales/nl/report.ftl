# Het auditrapport (`vereffen audit report`): koppen, soorten afwijkingen en
# bevindingen, controle-uitkomsten, checkpoints. Elk bericht heeft een
# Engelse tweeling in ../en/report.ftl. Bedragen en tijden komen al
# opgemaakt binnen; argumenten zijn tekst (in HTML al ge-escaped).

report-title = Auditrapport
report-doc-title = Auditrapport: { $ledger }
report-ledger = Grootboek
report-generated-from = opgesteld uit { $n } ondertekende boekingen van dit exemplaar van grootboek { $ledger }; er is geen klok gelezen
report-meta-ledger-id = Grootboek-id
report-meta-entries = Boekingen
report-meta-head = Laatste hash
report-meta-root = Merkle-wortel
report-meta-tree-size = (boomgrootte { $n })
report-meta-skew = Toegestane klokafwijking
report-meta-skew-value = { $n } seconden
report-nav-parties = Partijen en sleutels
report-contract = Contract { $contract }

report-anomalies = Afwijkingen
report-anomalies-count = Afwijkingen ({ $n })
report-anomalies-none = Geen gevonden: geen betwiste of onbesliste cijfers, geen correcties na vaststelling, geen conflicten in afrekeningen, elke afrekening laat zich narekenen, geen tijden in verkeerde volgorde, geen sleutel gebruikt na intrekking, geen tegenstrijdige checkpoints.
report-col-kind = Soort
report-col-concerns = Betreft
report-col-entry = Boeking
report-col-finding = Bevinding
report-kind-equivocation = tegenstrijdige checkpoints
report-kind-key-used-after-revocation = sleutel gebruikt na intrekking
report-kind-replay-differs = narekening wijkt af
report-kind-correction-after-settlement = correctie na vaststelling
report-kind-settlement-conflict = conflict in afrekening
report-kind-disputed-figure = betwist cijfer
report-kind-unresolved-figure = onbeslist cijfer
report-kind-contract-conflict = conflict in contract
report-kind-time-out-of-order = opgegeven tijd in verkeerde volgorde
report-kind-signed-before-period-end = ondertekend voor het einde van de periode
report-kind-quality-gate-not-met = kwaliteitsdrempel niet gehaald

report-about-settlement = { $contract } afrekening
report-about-year = { $contract } { $year }
report-about-figure = { $contract } { $indicator } { $period }
report-about-contract = { $contract }
report-about-entry = boeking { $seq } ({ $kind })
report-about-entry-by = boeking { $seq } ({ $kind }) door { $party }
report-about-key = sleutel { $key } van { $party }
report-about-origin = { $origin }

report-replay-differs = WIJKT AF: { $why }
report-replay-match = KLOPT ({ $n ->
    [one] 1 ondertekening nagerekend
   *[other] { $n } ondertekeningen nagerekend
})
report-settlement-conflict = { $what }
report-contract-conflict = { $what }
report-correction-after-settlement = { $source } corrigeerde { $old } naar { $new } op { $time } (reden: { $why }) nadat { $year } was vastgesteld met afrekening { $statement }; { $since }
report-no-reason-given = geen opgegeven
report-not-yet-resettled = nog niet opnieuw afgerekend
report-since-resettled = inmiddels opnieuw afgerekend
report-quality-gate-not-met = vastgestelde afrekening { $statement }: { $gate }
report-signed-early = { $what } op { $time }, voordat de periode eindigde op { $end }
report-early-signed-statement = { $party } ondertekende de afrekening { $year } { $statement }
report-early-submitted = { $party } leverde { $figure } aan voor { $period }
report-early-attested = { $party } bevestigde { $figure } voor { $period }
report-figure-disputed = { $figure } van { $source } is betwist: { $disputes }
report-figure-pending = { $figure } van { $source } is nog niet akkoord: wacht op { $parties }
report-figure-conflict = { $figure } van { $source } botst met een ander geldend cijfer voor dezelfde periode ({ $with }); geen van beide telt tot er één is gecorrigeerd
report-time-not-rfc3339 = opgegeven tijd { $time } is geen RFC 3339-tijd
report-time-before-reference = zegt { $time } maar verwijst naar { $entry } ({ $kind } door { $party }) met tijd { $entry_time }
report-time-before-previous = zegt { $time } maar de vorige boeking van { $party } in dit exemplaar ({ $entry }, { $kind }) zegt { $entry_time }
report-key-after-revocation = boeking { $seq } ({ $kind }) zegt { $time } maar is ondertekend met sleutel { $key }, ingetrokken ({ $why }) door { $revocation } met tijd { $revocation_time }
report-void-entry = boeking { $seq } ({ $kind }) is ongeldig: ondertekend met sleutel { $key }{ $via }, { $how } door { $ending } die haar niet in haar causale verleden heeft; ze telt nergens voor
report-void-introduced-by = { " " }(de sleutel kwam van ongeldige boeking { $entry })
report-nothing = { "" }
report-key-revoked = ingetrokken
report-key-retired = buiten gebruik gesteld
report-key-ended = beëindigd
report-equivocation-found = { $finding }: de beheerder ondertekende een boom van grootte { $size_a } met wortel { $root_a } en een boom van grootte { $size_b } met wortel { $root_b }; ze kunnen niet allebei de geschiedenis van dit exemplaar zijn

report-parties = Partijen en sleutelgeschiedenis
report-col-party = Partij
report-col-name = Naam
report-col-role = Rol
report-col-key = Sleutel
report-col-introduced = Ingevoerd
report-col-ended = Beëindigd
report-no-keys = geen sleutels
report-key-valid = geldig
report-key-introduced = { $time } met boeking { $entry } (#{ $seq })
report-key-end = { $how }{ $reason } op { $time } met boeking { $entry } (#{ $seq })
report-role-provider = zorgaanbieder
report-role-payer = financier
report-role-measurement-source = meetbron
report-role-auditor = accountant

report-base = Overeengekomen basisversie: { $version }
report-conflict = Conflict: { $what }
report-in-force = Geldend per jaar
report-col-year = Jaar
report-col-governing = Geldende versie
report-versions = Versies en ondertekeningen
report-col-version = Versie
report-col-state = Status
report-col-signatories = Ondertekenaars
report-col-signed = Ondertekend (partij, door, wanneer, boeking)
report-vkind-proposal = voorstel
report-vkind-counter = tegenvoorstel
report-vkind-amendment = wijziging
report-vkind-answers = { $kind } op { $version }
report-from-year = vanaf { $year }
report-under-mandate = { " " }(door { $party } onder mandaat)
report-rejected-by = afgewezen door { $party }
report-version-superseded = vervangen door { $version } (geldend)
report-version-agreed = akkoord
report-version-pending = open (wacht op { $parties })
report-version-rejected = afgewezen door { $parties }
report-version-withdrawn = ingetrokken

report-measurements = Metingen
report-col-indicator = Indicator
report-col-period = Periode
report-col-value = Waarde
report-col-source = Bron
report-col-signed-by = Ondertekend door
report-col-notes = Correcties, bezwaren, notities
report-mstate-agreed = akkoord
report-mstate-pending = nog niet akkoord
report-mstate-disputed = betwist
report-mstate-superseded = vervangen
report-mstate-conflict = conflict
report-figure-waiting-for = wacht op { $parties }
report-figure-disputed-by = betwist door { $parties }
report-figure-corrected-by = gecorrigeerd door { $entry }
report-figure-conflicts-with = botst met { $entries }
report-figure-derived = maatstaf { $metric } uit bestand { $file } volgens regels { $rules }: { $counted } van { $read } rijen geteld
report-corrects = corrigeert { $entry }: { $why }
report-dispute-by = betwist door { $party }
report-dispute = { $who } op { $time } ({ $status }): { $reason }
report-dispute-resolved = opgelost
report-dispute-open = open
report-note = notitie: { $text }
report-derived = afgeleid: { $what }

report-settlements = Afrekeningen
report-sstate-open = open
report-sstate-signed = ondertekend
report-sstate-settled = vastgesteld
report-sstate-conflict = { $state }, conflict
report-settlement-summary = Geldende versie { $version }; ondertekenaars { $parties }; vastgestelde afrekening { $statement }{ $replaced }.
report-replaced-list = ; vervangen { $list }
report-no-statement = Geen afrekening ondertekend.
report-row-statement = Afrekening
report-row-starts-from = Gaat uit van
report-row-inputs = Invoer
report-row-signed-by = Ondertekend door
report-row-replay = Narekening
report-standing-settled = vastgesteld
report-standing-replaced = vervangen
report-standing-not-settled = niet vastgesteld
report-inputs = { $n } metingen: { $ids }
report-replaces = { " " }(vervangt { $statement })
report-derivation = Berekening (zoals dit exemplaar de ondertekende afrekening berekent)
report-col-figure = Cijfer
report-col-computation = Berekening
report-payments = Betalingen (VAN -> NAAR)
report-col-from = Van
report-col-to = Naar
report-col-funding = Financieringsstroom
report-col-amount = Bedrag
report-on-balance = Per partij per saldo
report-col-on-balance = Per saldo
report-receives = ontvangt { $amount }
report-pays = betaalt { $amount }
report-nothing-on-balance = per saldo niets

report-checkpoints = Checkpoints en medeondertekeningen
report-no-checkpoints = Geen checkpoints vastgelegd in dit exemplaar.
report-checkpoint-latest = Laatste van { $n ->
    [one] 1 checkpoint
   *[other] { $n } checkpoints
}: boomgrootte { $size }, wortel { $root }.
report-cosigned-by = Medeondertekend door: { $list }
report-cosigned-nobody = niemand
report-cosignature = { $witness } op { $time }
report-equivocations = Bewijs van tegenstrijdige checkpoints
report-equivocations-none = Geen vastgelegd en geen zichtbaar in de vastgelegde checkpoints.

report-finding-same-size-different-root = zelfde grootte, andere wortel
report-equivocation-block = TEGENSTRIJDIGE CHECKPOINTS: twee ondertekende checkpoints van { $origin } hebben dezelfde boomgrootte { $size } maar verschillende wortels: het exemplaar liet twee verschillende geschiedenissen zien
    
    --- eerste checkpoint ---
    { $first }--- tweede checkpoint ---
    { $second }
