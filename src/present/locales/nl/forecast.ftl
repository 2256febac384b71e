# Een prognose van een contractjaar op basis van het lopende tempo
# (present::forecast, `vereffen settle forecast`). Ids en argumenten als in
# en/forecast.ftl.

forecast-banner = PROGNOSE OP BASIS VAN HET LOPENDE TEMPO: geen afrekening; nooit ondertekend, nooit in het grootboek vastgelegd
forecast-title = Prognose { $contract }, jaar { $year }
forecast-version = Contractversie { $version }
forecast-engine = Afrekenmodule { $engine } (dezelfde berekening als een afrekening)
forecast-through = Stand per { $through }: perioden die later eindigen tellen niet mee
forecast-as-of = Stand per { $as_of }: het einde van de laatste overeengekomen maand of het laatste kwartaal
forecast-as-of-none = Nog geen maand- of kwartaalcijfer van het jaar is overeengekomen
forecast-only-agreed = Alleen overeengekomen cijfers tellen mee; cijfers die wachten op akkoord, betwist zijn of conflicteren niet.

forecast-figures-heading = CIJFERS VOOR HET JAAR
forecast-basis-heading = GRONDSLAG
forecast-value-heading = WAARDE
forecast-basis-agreed = overeengekomen
forecast-basis-run-rate = lopend tempo
forecast-basis-assumed = aangenomen
forecast-basis-last-year = vorig jaar
forecast-basis-unknown = onbekend

forecast-how-agreed-year = het overeengekomen cijfer van { $year }
forecast-how-agreed-all = alle { $n } { $kind ->
    [month] maanden
    [quarter] kwartalen
   *[year] jaren
} overeengekomen: { $aggregation } van het jaar
forecast-how-known = { $known } van { $n } { $kind ->
    [month] maanden
    [quarter] kwartalen
   *[year] jaren
} overeengekomen
forecast-how-sum = som tot nu toe { $sum } x { $n } / { $known } = { $value }
forecast-how-rounded = {" "}(afgerond op { $dp } decimalen, de helft van nul af)
forecast-how-mean = gemiddelde tot nu toe = { $value }
forecast-how-last = laatst bekende ({ $period }) = { $value }
forecast-how-assumed = geen overeengekomen cijfer voor { $year }: aangenomen met --assume
forecast-how-last-year = geen overeengekomen cijfer voor { $year }: het overeengekomen cijfer van vorig jaar ({ $from })
forecast-how-unknown-required = onbekend: geen overeengekomen cijfer voor { $year }, geen voor het jaar ervoor, geen --assume; de afrekening heeft het nodig
forecast-how-unknown-optional = onbekend: geen overeengekomen cijfer voor { $year }; niet vereist, dus weggelaten zoals de afrekening het weglaat
forecast-how-after-through = ; { $n } overeengekomen { $n ->
    [one] periode eindigt
   *[other] perioden eindigen
} na het prognosemoment en { $n ->
    [one] telt
   *[other] tellen
} niet mee
forecast-how-other-year = overeengekomen cijfer van { $year } (voor de trend)
forecast-not-counted = telt niet mee: { $periods }
forecast-period-state = { $period } { $state } (aan zet: { $to_act })
forecast-state-missing = ontbreekt
forecast-state-pending = wacht op akkoord
forecast-state-disputed = betwist
forecast-state-conflict = in conflict

forecast-incomplete = ONVOLLEDIG: { $n ->
    [one] één cijfer dat de afrekening nodig heeft is onbekend
   *[other] { $n } cijfers die de afrekening nodig heeft zijn onbekend
}, dus er is geen stand op basis van het lopende tempo:
forecast-missing-this-year = { $indicator } ({ $year }): geen overeengekomen cijfer voor { $year } of { $before }; lever de cijfers aan en kom ze overeen (`vereffen measure submit`), of geef --assume { $indicator }=WAARDE
forecast-missing-other-year = { $indicator } ({ $year }): niet overeengekomen ({ $periods }); kom het overeen (`vereffen measure list`) voor de prognose

forecast-cash-heading = STAND OP BASIS VAN HET LOPENDE TEMPO
forecast-on-balance-heading = KAS PER SALDO
forecast-result-heading = RESULTAAT
forecast-no-payments = Geen betalingen op basis van het lopende tempo.
forecast-payments-heading = BETALINGEN OP BASIS VAN HET LOPENDE TEMPO (VAN -> NAAR, { $currency })

forecast-flags-heading = GEVOLGEN VOLGENS HET CONTRACT, OP BASIS VAN HET LOPENDE TEMPO
forecast-no-flags = geen
forecast-flag-provider-loss = { $party } draagt een verlies van { $amount }
forecast-flag-inside-corridor = besparing { $savings } valt binnen de drempel { $corridor }: geen uitkering van gedeelde besparingen
forecast-flag-inside-corridor-shared = besparing { $savings } valt binnen de drempel { $corridor }: alleen gedeeld volgens de regel binnen de drempel
forecast-flag-inside-loss-corridor = het verlies { $loss } valt binnen de verliesdrempel: de aanbieders betalen er niets van
forecast-flag-cap = plafond bereikt: { $line } = { $cap } is van toepassing
forecast-flag-below-target = { $indicator } blijft onder de streefwaarde (score { $score })
forecast-flag-not-met = { $indicator } haalt de streefwaarde niet: op of voorbij de ondergrens (score { $score })
forecast-flag-bonus-not-met = bonus { $bonus } wordt niet gehaald ({ $indicator })
forecast-flag-missing = { $indicator }: { $n ->
    [one] één periode
   *[other] { $n } perioden
} tot het prognosemoment niet overeengekomen ({ $periods }); het jaar kan pas worden afgerekend als { $n ->
    [one] die is overeengekomen
   *[other] die zijn overeengekomen
}

forecast-csv-contract = contract
forecast-csv-year = jaar
forecast-csv-row = regel
forecast-csv-item = onderdeel
forecast-csv-basis = grondslag
forecast-csv-value = waarde
forecast-csv-detail = toelichting
forecast-csv-clause = contractbepaling
forecast-csv-row-forecast = prognose
forecast-csv-row-version = contractversie
forecast-csv-row-as-of = stand_per
forecast-csv-row-indicator = indicator
forecast-csv-row-not-counted = telt_niet_mee
forecast-csv-row-missing = ontbreekt
forecast-csv-row-cash = kas
forecast-csv-row-result = resultaat
forecast-csv-row-payment = betaling
forecast-csv-row-flag = signaal

forecast-previous-year-open = { $year } kan niet worden afgerekend met de overeengekomen cijfers, en een prognose van { $forecast } begint bij de saldi aan het eind van { $year }: { $why }
    (`vereffen measure list { $contract } --year { $year }` toont ze)
