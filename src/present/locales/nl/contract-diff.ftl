# De wijzigingen tussen twee contractversies in woorden (`contract diff`,
# de tijdlijn van de onderhandeling op de webwerkplek):
# present/negotiation.rs `change_words`, veld-id's uit domain/contract/diff.rs.

diff-heading = { $a } -> { $b }: { $n ->
    [one] { $n } wijziging
   *[other] { $n } wijzigingen
}
diff-changed = { $label }: { $before } -> { $after }
diff-added = { $label }: toegevoegd ({ $after })
diff-removed = { $label }: verwijderd (was { $before })
diff-unchanged = { $label }: ongewijzigd
diff-none = geen
diff-true = ja
diff-false = nee
diff-as-fraction = { $value } (als breuk)

diff-title = titel
diff-rounding = afronding
diff-first-year = eerste contractjaar
diff-last-year = laatste contractjaar
diff-knob-scope = knop 1, reikwijdte
diff-knob-financing-base = knop 2, financieringsgrondslag
diff-knob-financing-goal = knop 3, financieringsdoel
diff-knob-contract-form = knop 4, contractvorm
diff-knob-term = knop 5, looptijd
diff-knob-risk-implementation = knop 6, risico van een mislukte implementatie
diff-knob-risk-cost-overrun = knop 6, risico van kostenoverschrijding
diff-knob-risk-volume = knop 6, risico van meer patiënten
diff-knob-chain-partners = knop 7, ketenpartners
diff-knob-provider-reward = knop 8, beloning van aanbieders
diff-knob-condition-scope = knop 9, reikwijdte van de aandoening
diff-baseline-cost = kosten in de uitgangssituatie
diff-baseline-year = basisjaar
diff-trend-rate = jaarlijkse trend
diff-trend-rates = trendpercentage
diff-payer-contribution = bijdrage van de betaler
diff-quality-weight = gewicht in de kwaliteitsscore
diff-provider-share = aandeel aanbieder in de besparing
diff-sided = risico bij gedeelde besparing
diff-sharing-base = grondslag van de deling
diff-min-quality-score = minimale kwaliteitsscore
diff-quality-scaling = schaling van het aandeel naar kwaliteit
diff-withhold = inhouding
diff-savings-cap = besparingsplafond (deel van de benchmark)
diff-loss-cap = verliesplafond (deel van de benchmark)
diff-carry-forward-losses = verliezen doorschuiven
diff-corridor-min-savings-rate = minimale besparing (drempel)
diff-corridor-min-loss-rate = minimaal verlies (drempel)
diff-corridor-row-min-savings-rate = drempelrij, minimale besparing
diff-corridor-row-min-loss-rate = drempelrij, minimaal verlies
diff-loss-share-rate = verliesaandeel aanbieder
diff-loss-share-min = minimaal verliesaandeel
diff-loss-share-max = maximaal verliesaandeel
diff-price = tarief
diff-max-amount-per-year = hoogste bedrag per jaar
diff-claim-cap = declaratieplafond
diff-bonus = bonus
diff-bonus-target = streefwaarde van de bonus
diff-target-price = doelprijs per episode
diff-stop-gain = winstplafond (integrale prijs)
diff-stop-loss = verliesplafond (integrale prijs)
diff-amount-per-member = budget per verzekerde per jaar
diff-risk-band-provider-share = aandeel aanbieder in de risicobandbreedte
diff-impulse-amount = bedrag impulsfinanciering
diff-impulse-repayment-rate = terugbetalingspercentage impulsfinanciering
diff-revenue-floor = omzetgarantie (ondergrens)
diff-tariff-adjustment = tariefaanpassing
diff-provider-payout-share = aandeel aanbieder in de uitkeringen
diff-payer-share = aandeel betaler
