# Words of `vereffen simulate` (branch `simviews`). Every id has a Dutch
# twin in ../nl/simulate.ftl.

simulate-header = Monte Carlo: { $runs } runs, seed { $seed }; amounts in { $currency }
simulate-views-result = economic result: what a party earned (above 0) or bore (below 0); a provider: its result payments; a payer: the savings it keeps minus its result payments; advances and their repayments are loans, a waived balance is a result
simulate-views-cash = cash: what the party received minus what it paid, advances and repayments included
simulate-variant = == { $variant } ({ $contract })
simulate-result-heading = -- economic result (earned, or borne below 0)
simulate-cash-heading = -- cash (received - paid)
simulate-col-party = party
simulate-col-period = period
simulate-col-mean = mean
simulate-col-worst = worst
simulate-col-p-loss = P(loss)
simulate-col-p-pays = P(pays)
simulate-term = term
simulate-components = expected cash per component over the term:
simulate-comp-volume = volume
simulate-comp-p4p = pay for performance
simulate-comp-shared_savings = shared savings
simulate-comp-bundled = bundled payment
simulate-comp-capitation = capitation
simulate-comp-impulse = impulse financing
simulate-comp-revenue_guarantee = revenue guarantee
simulate-comparison = == comparison over the term (same draws for every variant; difference columns: B - A of the figures)
simulate-comparison-left-out = == comparison over the term: left out for more than { $max } variants ({ $n }); summary.csv under --out holds every variant's figures
simulate-row-result-mean = result mean
simulate-row-result-p5 = result P5
simulate-row-result-p95 = result P95
simulate-row-p-loss = P(loss)
simulate-row-cash-mean = cash mean
simulate-sweep = == sweep: economic result over the term, other inputs at their central values
simulate-tornado = == sensitivity: the first provider's economic result over the term, each input at its P5 / P95
simulate-tornado-central = { $variant } ({ $party }): central { $value }
simulate-wrote = wrote { $dir }
simulate-cliff-closed = warning: { $variant } { $year }: at the central values the quality gate is not met (score { $score } < gate { $gate }): the savings share is 0 there, so the cost inputs move nothing around the centre (the sensitivity shows no effect from cost) and the result jumps when quality crosses the gate; read the percentiles, not the central result
simulate-cliff-edge = warning: { $variant } { $year }: at the central values the quality score { $score } sits at the gate { $gate }: a small move of a quality input switches the savings share on or off; read the percentiles, not the central result
simulate-chart-distribution = Economic result per year (P5, P25, median, P75, P95): { $variant }
simulate-chart-result-axis = economic result ({ $currency })
simulate-chart-term-axis = economic result over the term ({ $currency })
simulate-chart-sweep = Result over the term of { $who } along { $axis }
simulate-chart-each-party = each party
simulate-chart-tornado = What moves { $party }'s result over the term most
simulate-chart-tornado-axis = economic result over the term ({ $currency }); blue: input at its P5, red: at its P95
simulate-chart-comparison = Economic result over the term per variant (mean, whiskers P5-P95)
simulate-change = { $input } change
