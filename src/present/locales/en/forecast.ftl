# A forecast of a contract year at run rate (present::forecast, `vereffen
# settle forecast`). Ids and arguments match nl/forecast.ftl.

forecast-banner = FORECAST AT RUN RATE: not a statement; never signed, never recorded in the ledger
forecast-title = Forecast { $contract }, year { $year }
forecast-version = Contract version { $version }
forecast-engine = Settlement engine { $engine } (the same computation as a statement)
forecast-through = As of { $through }: periods ending later are left out
forecast-as-of = As of { $as_of }: the end of the last agreed month or quarter
forecast-as-of-none = No monthly or quarterly figure of the year is agreed yet
forecast-only-agreed = Only agreed figures count; pending, disputed and conflicting figures do not.

forecast-figures-heading = FIGURES FOR THE YEAR
forecast-basis-heading = BASIS
forecast-value-heading = VALUE
forecast-basis-agreed = agreed
forecast-basis-run-rate = run rate
forecast-basis-assumed = assumed
forecast-basis-last-year = last year's
forecast-basis-unknown = unknown

forecast-how-agreed-year = the agreed figure of { $year }
forecast-how-agreed-all = all { $n } { $kind ->
    [month] months
    [quarter] quarters
   *[year] years
} agreed: the year's { $aggregation }
forecast-how-known = { $known } of { $n } { $kind ->
    [month] months
    [quarter] quarters
   *[year] years
} agreed
forecast-how-sum = sum so far { $sum } x { $n } / { $known } = { $value }
forecast-how-rounded = {" "}(rounded half away from zero to { $dp } decimals)
forecast-how-mean = mean so far = { $value }
forecast-how-last = last known ({ $period }) = { $value }
forecast-how-assumed = no agreed figure for { $year }: assumed with --assume
forecast-how-last-year = no agreed figure for { $year }: last year's agreed figure ({ $from })
forecast-how-unknown-required = unknown: no agreed figure for { $year }, none for the year before, no --assume; the settlement requires it
forecast-how-unknown-optional = unknown: no agreed figure for { $year }; not required, so left out as the settlement leaves it out
forecast-how-after-through = ; { $n } agreed { $n ->
    [one] period ends
   *[other] periods end
} after the forecast point and { $n ->
    [one] is
   *[other] are
} left out
forecast-how-other-year = agreed figure of { $year } (used by the trend)
forecast-not-counted = not counted: { $periods }
forecast-period-state = { $period } { $state } (to act: { $to_act })
forecast-state-missing = missing
forecast-state-pending = pending
forecast-state-disputed = disputed
forecast-state-conflict = in conflict

forecast-incomplete = INCOMPLETE: { $n ->
    [one] one figure the settlement requires is unknown
   *[other] { $n } figures the settlement requires are unknown
}, so there is no position at run rate:
forecast-missing-this-year = { $indicator } ({ $year }): no agreed figure for { $year } or { $before }; submit and agree its figures (`vereffen measure submit`), or give --assume { $indicator }=VALUE
forecast-missing-other-year = { $indicator } ({ $year }): not agreed ({ $periods }); agree it (`vereffen measure list`) before forecasting

forecast-cash-heading = POSITION AT RUN RATE
forecast-on-balance-heading = CASH ON BALANCE
forecast-result-heading = RESULT
forecast-no-payments = No payments at run rate.
forecast-payments-heading = PAYMENTS AT RUN RATE (FROM -> TO, { $currency })

forecast-flags-heading = CONSEQUENCES THE CONTRACT STATES, AT RUN RATE
forecast-no-flags = none
forecast-flag-provider-loss = { $party } bears a loss of { $amount }
forecast-flag-inside-corridor = savings { $savings } are inside the corridor { $corridor }: no savings payout
forecast-flag-inside-corridor-shared = savings { $savings } are inside the corridor { $corridor }: shared only under the inside-corridor rule
forecast-flag-inside-loss-corridor = the loss { $loss } is inside the loss corridor: the providers pay none of it
forecast-flag-cap = cap reached: { $line } = { $cap } applies
forecast-flag-below-target = { $indicator } is below its target (score { $score })
forecast-flag-not-met = { $indicator } does not meet its target: at or past its threshold (score { $score })
forecast-flag-bonus-not-met = bonus { $bonus } is not met ({ $indicator })
forecast-flag-missing = { $indicator }: { $n ->
    [one] one period
   *[other] { $n } periods
} up to the forecast point not agreed ({ $periods }); the year cannot be settled until { $n ->
    [one] it is
   *[other] they are
}

forecast-csv-contract = contract
forecast-csv-year = year
forecast-csv-row = row
forecast-csv-item = item
forecast-csv-basis = basis
forecast-csv-value = value
forecast-csv-detail = detail
forecast-csv-clause = contract_clause
forecast-csv-row-forecast = forecast
forecast-csv-row-version = contract_version
forecast-csv-row-as-of = as_of
forecast-csv-row-indicator = indicator
forecast-csv-row-not-counted = not_counted
forecast-csv-row-missing = missing
forecast-csv-row-cash = cash
forecast-csv-row-result = result
forecast-csv-row-payment = payment
forecast-csv-row-flag = flag

forecast-previous-year-open = { $year } cannot be settled from its agreed figures, and a forecast of { $forecast } starts from the balances at the end of { $year }: { $why }
    (`vereffen measure list { $contract } --year { $year }` shows them)
