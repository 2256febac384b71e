# Woorden van `vereffen simulate` (branch `simviews`). Elk id heeft een
# Engelse tweeling in ../en/simulate.ftl.

simulate-header = Monte Carlo: { $runs } runs, seed { $seed }; bedragen in { $currency }
simulate-views-result = economisch resultaat: wat een partij verdiende (boven 0) of droeg (onder 0); een zorgaanbieder: de betalingen die resultaat zijn; een financier: de besparing die hij houdt min de betalingen die resultaat zijn; voorschotten en hun aflossingen zijn leningen, een kwijtgescholden saldo is resultaat
simulate-views-cash = kasstroom: wat de partij ontving min wat zij betaalde, voorschotten en aflossingen inbegrepen
simulate-variant = == { $variant } ({ $contract })
simulate-result-heading = -- economisch resultaat (verdiend, of gedragen onder 0)
simulate-cash-heading = -- kasstroom (ontvangen - betaald)
simulate-col-party = partij
simulate-col-period = periode
simulate-col-mean = gemiddeld
simulate-col-worst = slechtst
simulate-col-p-loss = P(verlies)
simulate-col-p-pays = P(betaalt)
simulate-term = looptijd
simulate-components = verwachte kasstroom per onderdeel over de looptijd:
simulate-comp-volume = volume
simulate-comp-p4p = prestatiebekostiging
simulate-comp-shared_savings = gedeelde besparingen
simulate-comp-bundled = integrale bekostiging
simulate-comp-capitation = populatiebekostiging
simulate-comp-impulse = impulsfinanciering
simulate-comp-revenue_guarantee = omzetgarantie
simulate-comparison = == vergelijking over de looptijd (dezelfde trekkingen voor elke variant; verschilkolommen: B - A van de cijfers)
simulate-comparison-left-out = == vergelijking over de looptijd: weggelaten bij meer dan { $max } varianten ({ $n }); summary.csv onder --out bevat de cijfers van elke variant
simulate-row-result-mean = resultaat gemiddeld
simulate-row-result-p5 = resultaat P5
simulate-row-result-p95 = resultaat P95
simulate-row-p-loss = P(verlies)
simulate-row-cash-mean = kasstroom gemiddeld
simulate-sweep = == sweep: economisch resultaat over de looptijd, overige invoer op de centrale waarde
simulate-tornado = == gevoeligheid: economisch resultaat van de eerste zorgaanbieder over de looptijd, elke invoer op zijn P5 / P95
simulate-tornado-central = { $variant } ({ $party }): centraal { $value }
simulate-wrote = geschreven: { $dir }
simulate-cliff-closed = waarschuwing: { $variant } { $year }: bij de centrale waarden wordt de kwaliteitsdrempel niet gehaald (score { $score } < drempel { $gate }): het aandeel in de besparing is daar 0, dus de kosten veranderen rond het midden niets (de gevoeligheid toont geen effect van de kosten) en het resultaat springt wanneer de kwaliteit de drempel passeert; lees de percentielen, niet het centrale resultaat
simulate-cliff-edge = waarschuwing: { $variant } { $year }: bij de centrale waarden ligt de kwaliteitsscore { $score } op de drempel { $gate }: een kleine verandering van een kwaliteitsinvoer zet het aandeel in de besparing aan of uit; lees de percentielen, niet het centrale resultaat
simulate-chart-distribution = Economisch resultaat per jaar (P5, P25, mediaan, P75, P95): { $variant }
simulate-chart-result-axis = economisch resultaat ({ $currency })
simulate-chart-term-axis = economisch resultaat over de looptijd ({ $currency })
simulate-chart-sweep = Resultaat over de looptijd van { $who } langs { $axis }
simulate-chart-each-party = elke partij
simulate-chart-tornado = Wat het resultaat van { $party } over de looptijd het meest beweegt
simulate-chart-tornado-axis = economisch resultaat over de looptijd ({ $currency }); blauw: invoer op P5, rood: op P95
simulate-chart-comparison = Economisch resultaat over de looptijd per variant (gemiddeld, snorharen P5-P95)
simulate-change = verandering { $input }
