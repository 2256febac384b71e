# Woorden van afrekeningsregels (present::words). Elke melding is één soort
# regel van de afrekenmodule; $a0, $a1, ... zijn de getallen en namen in
# volgorde, al opgemaakt voor de taal. Ids en argumenten als en/lines.ftl.

line-actual-cost = Werkelijke kosten ({ $a0 }) = { $a1 }
line-actual-cost-label = Werkelijke kosten
line-advance = Voorschot impulsfinanciering { $a0 } van { $a1 } aan { $a2 } = { $a3 }
line-advance-label = Voorschot impulsfinanciering: { $a0 }
line-applies = {" "}(van toepassing)
line-band = Bandbreedte { $a0 } van het budget ({ $a1 } tot { $a2 }): deel { $a3 } x aandeel aanbieder { $a4 } = { $a5 }
line-band-beyond = boven { $a0 }
line-band-label = Risicoband { $a0 }
line-band-open = open
line-band-range = { $a0 } tot { $a1 }
line-bundled-result = Resultaat = { $a0 } - { $a1 } = { $a2 }
line-bundled-result-label = Resultaat vóór winst- en verliesplafond
line-bundled-settlement = Afrekening = { $a0 }
line-bundled-settlement-label = Afrekening integrale prijs
line-bundled-target = Doeltotaal = { $a0 } per episode x { $a1 } episodes = { $a2 }
line-bundled-target-label = Doeltotaal
line-cap = Plafond = { $a0 } = { $a1 }; gedeclareerd { $a2 }; elke activiteit ten hoogste wat het plafond overlaat, in de genoemde volgorde
line-cap-claimed = { $a0 } { $a1 }
line-cap-label = Declaratieplafond voor { $a0 }
line-cap-per-client = { $a0 } per cliënt x { $a1 } cliënten
line-cap-per-client-month = { $a0 } per cliëntmaand x { $a1 } cliëntmaanden
line-cap-per-year = { $a0 } per jaar
line-capitation-budget = Budget = { $a0 } per verzekerdenjaar x { $a1 } = { $a2 }
line-capitation-budget-label = Populatiebudget
line-capitation-payer = Deel van de betaler = { $a0 } - { $a1 } = { $a2 }
line-capitation-payer-label = Deel van de betaler in het resultaat
line-capitation-payment-label = Afrekening populatiebekostiging
line-capitation-result = Resultaat = { $a0 } - { $a1 } = { $a2 } ({ $a3 } van het budget)
line-capitation-result-label = Resultaat (budget - werkelijk)
line-cents = {" "}+ { $a0 } cent afrondingsverschil
line-cents-one = {" "}+ 1 cent afrondingsverschil
line-corridor-between = { $a0 } = { $a1 }: { $a2 } + ({ $a3 } - { $a4 }) x ({ $a5 } - { $a6 }) / ({ $a7 } - { $a8 })
line-corridor-first = { $a0 }, op of onder de eerste rij ({ $a1 }): het percentage daarvan
line-corridor-last = { $a0 }, op of boven de laatste rij ({ $a1 }): het percentage daarvan
line-discount = Korting ({ $a0 }) = { $a1 } x { $a2 } = { $a3 }
line-discount-label = Korting: { $a0 }
line-discount-off = Korting niet van toepassing ({ $a0 })
line-due = Saldo van het voorschot { $a0 } opeisbaar = { $a1 }
line-due-label = Saldo voorschot opeisbaar aan het einde van de looptijd
line-fixed = vast
line-fm-agreed = overeengekomen bedrag ({ $a0 }) { $a1 }
line-fm-part = { $a0 } { $a1 }
line-fm-times = { $a0 } x { $a1 }
line-grant = Subsidie impulsfinanciering { $a0 } van { $a1 } aan { $a2 } = { $a3 }
line-grant-label = Subsidie impulsfinanciering: { $a0 }
line-key-contribution = bijdrage { $a0 } van { $a1 }
line-key-of = { $a0 } van { $a1 }
line-key-rate = { $a0 }
line-lesser-applies = {" "}(de laagste: van toepassing)
line-lesser-not-reached = {" "}(de laagste: niet bereikt)
line-list = { $a0 }
line-loss-rate-clamp = begrensd({ $a0 } - { $a1 } x { $a2 } kwaliteit, { $a3 }, { $a4 })
line-meets = { $a0 } haalt doel { $a1 }
line-misses = { $a0 } haalt doel { $a1 } niet
line-missing = ontbreekt
line-missing-not-met = ontbreekt (geldt als niet gehaald)
line-missing-treated = ontbreekt: geldt als niet gehaald
line-money = { $a0 }
line-name = { $a0 }
line-not-lesser = {" "}(niet de laagste)
line-not-reached = {" "}(niet bereikt)
line-nothing = {""}
line-number = { $a0 }
line-p4p-at-least = { $a0 } = { $a1 }, doel ten minste { $a2 }: { $a3 }
line-p4p-at-most = { $a0 } = { $a1 }, doel ten hoogste { $a2 }: { $a3 }
line-p4p-label = Bonus { $a0 }
line-p4p-met = gehaald: { $a0 }
line-p4p-met-per-member = gehaald: { $a0 } x { $a1 } = { $a2 }
line-p4p-not-met = niet gehaald: geen bonus
line-payer-part = deel betaler: { $a0 } van { $a1 }{ $a2 }
line-per-episode = per episode
line-per-member-month = per verzekerdenmaand
line-per-member-year = per verzekerdenjaar
line-provider-part = deel aanbieder: { $a0 } van { $a1 }{ $a2 }
line-providers-bear = Aanbieders dragen = { $a0 }
line-providers-bear-label = Aanbieders dragen
line-providers-keep = Aanbieders behouden = { $a0 }
line-providers-keep-label = Aanbieders behouden
line-q-higher = { $a0 }: hoger is beter, ondergrens { $a1 }, doel { $a2 }: { $a3 } = { $a4 }
line-q-label = Kwaliteitsscore: { $a0 }
line-q-linear = ({ $a0 } - { $a1 }) / ({ $a2 } - { $a3 })
line-q-lower = { $a0 }: lager is beter, ondergrens { $a1 }, doel { $a2 }: { $a3 } = { $a4 }
line-q-term = { $a0 } x { $a1 }
line-q-total = Kwaliteitsscore = { $a0 } = { $a1 }
line-q-total-label = Kwaliteitsscore
line-q-within = { $a0 }, binnen 0..1
line-repayment = { $a0 } betaalt { $a1 } terug van het voorschot { $a2 }
line-repayment-amount = Terugbetaling = min({ $a0 } x { $a1 } uitkering besparing, { $a2 } saldo) = { $a3 }; saldo daarna = { $a4 }
line-repayment-amount-label = Terugbetaling van het voorschot { $a0 } aan { $a1 }
line-repayment-amount-left = Terugbetaling = min({ $a0 } x { $a1 } uitkering besparing, { $a2 } saldo, { $a3 } resterende uitkering) = { $a4 }; saldo daarna = { $a5 }
line-repayment-label = Terugbetaling voorschot
line-revenue = Omzet, { $a0 } = { $a1 }
line-revenue-label = Omzet van { $a0 }
line-revenue-measured = gemeten ({ $a0 })
line-revenue-own = de betalingen uit dit contract in het jaar
line-size-episodes = { $a0 } episodes
line-size-member-months = { $a0 } verzekerdenmaanden / 12
line-size-member-months-plain = { $a0 } verzekerdenmaanden
line-size-members = { $a0 } verzekerden
line-size-members-x12 = { $a0 } verzekerden x 12
line-span = { $a0 }->{ $a1 }
line-split = { $a0 }; { $a1 } = { $a2 }
line-split-whole = { $a0 } = { $a1 }
line-ss-after-withhold = Na inhouding = { $a0 } - { $a1 } = { $a2 }
line-ss-after-withhold-label = Aandeel aanbieder na inhouding
line-ss-bears = Betaler draagt = { $a0 } verlies - { $a1 } = { $a2 }
line-ss-bears-label = Betaler draagt
line-ss-bears-one-sided = Eenzijdig: de betaler draagt het verlies = { $a0 }
line-ss-before-fm = Verlies vóór overmacht = { $a0 }
line-ss-before-fm-label = Verlies aanbieder vóór overmacht
line-ss-benchmark = Benchmark = { $a0 } { $a1 } x { $a2 } trend x { $a3 } = { $a4 }
line-ss-benchmark-agreed = Benchmark = overeengekomen totaal ({ $a0 }) = { $a1 }
line-ss-benchmark-label = Benchmark (verwachte kosten)
line-ss-benchmark-risk = Benchmark = { $a0 } { $a1 } x { $a2 } trend x { $a3 } risico x { $a4 } = { $a5 }
line-ss-carried = Verlies overgedragen naar volgend jaar = { $a0 } (verrekend met latere besparingen)
line-ss-carried-label = Verlies overgedragen naar volgend jaar
line-ss-corridor = Drempel = { $a0 } x { $a1 } benchmark = { $a2 }
line-ss-corridor-label = Besparingsdrempel
line-ss-corridor-rate = Minimale besparing ({ $a0 }) = { $a1 }
line-ss-corridor-rate-label = Minimale besparing
line-ss-fm-fraction = Overmachtsfractie = { $a0 } = { $a1 }
line-ss-fm-fraction-label = Overmachtsfractie
line-ss-fm-reduction = Vermindering wegens overmacht = { $a0 } = { $a1 }
line-ss-fm-reduction-clamped = Vermindering wegens overmacht = { $a0 }, ten hoogste het verlies { $a1 } = { $a2 }
line-ss-fm-reduction-label = Vermindering wegens overmacht
line-ss-gate = Kwaliteitsscore { $a0 } ligt onder de kwaliteitsdrempel { $a1 }: geen aandeel in de besparing
line-ss-gate-label = Kwaliteitsdrempel niet gehaald
line-ss-gross = Bruto besparing = { $a0 } benchmark - { $a1 } werkelijk = { $a2 }
line-ss-gross-label = Bruto besparing
line-ss-inside-label = Voorwaarde binnen de drempel
line-ss-inside-met = Voorwaarde binnen de drempel ({ $a0 }): { $a1 }: besparingen binnen de drempel worden gedeeld
line-ss-inside-missed = Voorwaarde binnen de drempel ({ $a0 }): { $a1 }: binnen de drempel wordt niets gedeeld
line-ss-keeps = Betaler behoudt = { $a0 } bruto besparing - { $a1 } uitkering = { $a2 }
line-ss-keeps-label = Betaler behoudt
line-ss-lapsed = Verlies niet verrekend aan het einde van de looptijd = { $a0 } (vervalt met de looptijd)
line-ss-lapsed-label = Verlies niet verrekend aan het einde van de looptijd
line-ss-loss = Verlies = { $a0 }
line-ss-loss-cap = Verliesplafond = { $a0 } x { $a1 } benchmark = { $a2 }{ $a3 }
line-ss-loss-cap-label = Verliesplafond
line-ss-loss-corridor = Verliesdrempel = { $a0 } x { $a1 } benchmark = { $a2 }
line-ss-loss-corridor-label = Verliesdrempel
line-ss-loss-corridor-rate = Minimaal verlies ({ $a0 }) = { $a1 }
line-ss-loss-corridor-rate-label = Minimaal verlies
line-ss-loss-label = Verlies (werkelijke kosten boven de benchmark)
line-ss-loss-payment-label = Betaling gedeeld verlies
line-ss-loss-rate = Verliespercentage = { $a0 } = { $a1 }
line-ss-loss-rate-label = Verliespercentage aanbieder
line-ss-loss-share = Verliesaandeel aanbieder = { $a0 } x { $a1 } = { $a2 }
line-ss-loss-share-label = Verliesaandeel aanbieder vóór plafond
line-ss-loss-shared = Gedeeld verlies = { $a0 }
line-ss-loss-shared-label = Gedeeld verlies
line-ss-loss-shared-none = Verlies { $a0 } ligt onder de verliesdrempel { $a1 }: er wordt niets gedeeld
line-ss-net = Netto besparing = { $a0 } - { $a1 } = { $a2 }
line-ss-net-label = Netto besparing
line-ss-netted = Verrekend verlies = min({ $a0 } overgedragen, { $a1 } bruto besparing) = { $a2 }
line-ss-netted-label = Verrekend verlies van eerdere jaren
line-ss-payment-label = Uitkering gedeelde besparing
line-ss-payout = Uitkering aanbieder = { $a0 }
line-ss-payout-label = Uitkering gedeelde besparing aan aanbieder
line-ss-prorated = Naar rato = { $a0 } x { $a1 } maanden ({ $a2 }) / 12 = { $a3 }
line-ss-prorated-label = Verliesbetaling naar rato van de maanden deelname
line-ss-provider-pays = Aanbieder betaalt = { $a0 }
line-ss-provider-pays-label = Aanbieder betaalt van het verlies
line-ss-provider-rate = Aandeel aanbieder = { $a0 } x { $a1 } kwaliteit = { $a2 }
line-ss-provider-rate-fixed = Aandeel aanbieder = { $a1 } (het aandeel uit het contract)
line-ss-provider-rate-label = Aandeelpercentage aanbieder
line-ss-provider-share = Aandeel aanbieder = { $a0 } x { $a1 } = { $a2 }
line-ss-provider-share-label = Aandeel aanbieder vóór inhouding en plafond
line-ss-provider-share-zero = Aandeel aanbieder = { $a0 } x { $a1 } = { $a2 } (het aandeel uit het contract is 0%: er wordt niets betaald)
line-ss-rate = Besparingspercentage = { $a0 } / { $a1 } = { $a2 }
line-ss-rate-label = Besparingspercentage
line-ss-risk = Risicofactor = { $a0 }
line-ss-risk-label = Risicocorrectiefactor
line-ss-savings-cap = Plafond = { $a0 } x { $a1 } benchmark = { $a2 }{ $a3 }
line-ss-savings-cap-label = Besparingsplafond
line-ss-second-cap = Tweede verliesplafond = { $a0 } x { $a1 } { $a2 } = { $a3 }{ $a4 }
line-ss-second-cap-label = Tweede verliesplafond
line-ss-shared-above = Besparing boven de drempel = { $a0 } - { $a1 } = { $a2 }
line-ss-shared-first = Besparing gedeeld vanaf de eerste euro = { $a0 }
line-ss-shared-inside = Besparing { $a0 } ligt onder de drempel { $a1 }: gedeeld vanaf de eerste euro tegen het percentage binnen de drempel = { $a2 }
line-ss-shared-label = Gedeelde besparing
line-ss-shared-none = Besparing { $a0 } ligt onder de drempel { $a1 }: er wordt niets gedeeld
line-ss-trend = Trendfactor { $a0 } = { $a1 } = { $a2 }
line-ss-trend-label = Trendfactor { $a0 }
line-ss-withhold = Inhouding = { $a0 } x { $a1 } = { $a2 }
line-ss-withhold-label = Inhouding
line-stop-gain = Winstplafond = { $a0 } x { $a1 } = { $a2 }{ $a3 }
line-stop-gain-label = Winstplafond
line-stop-loss = Verliesplafond = { $a0 } x { $a1 } = { $a2 }{ $a3 }
line-stop-loss-label = Verliesplafond
line-surcharge = Opslag ({ $a0 }) = { $a1 } x { $a2 } = { $a3 }
line-surcharge-label = Opslag: { $a0 }
line-surcharge-off = Opslag niet van toepassing ({ $a0 })
line-top-up = Aanvulling = max(0, { $a0 } ondergrens - { $a1 } omzet) = { $a2 }
line-top-up-label = Aanvulling omzetgarantie
line-trend-fixed = (1 + { $a0 })^{ $a1 }
line-trend-index = index { $a0 } ({ $a1 }) / { $a2 } ({ $a3 })
line-trend-year = (1 + { $a0 } { $a1 })
line-trigger-always = altijd
line-trigger-meets = { $a0 } { $a1 } haalt doel { $a2 }
line-trigger-misses = { $a0 } { $a1 } haalt doel { $a2 } niet
line-volume-activity-code-label = { $a0 } (code { $a1 })
line-volume-amount = { $a0 } { $a1 } (na plafonds) x { $a2 } = { $a3 }
line-volume-max = Begrensd op het jaarmaximum { $a0 }: { $a1 } - { $a2 } = { $a3 }
line-volume-max-label = Jaarmaximum
line-volume-payment-label = Betaling productie { $a0 }
line-waived = Saldo van het voorschot { $a0 } kwijtgescholden = { $a1 }
line-waived-label = Saldo voorschot kwijtgescholden aan het einde van de looptijd
