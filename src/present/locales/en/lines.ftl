# Words of statement lines (present::words). Each message is one line kind
# of the settlement engine; $a0, $a1, ... are its numbers and names in order,
# already formatted for the language. Ids and arguments match nl/lines.ftl.

line-actual-cost = Actual cost ({ $a0 }) = { $a1 }
line-actual-cost-label = Actual cost
line-advance = Impulse advance { $a0 } from { $a1 } to { $a2 } = { $a3 }
line-advance-label = Impulse advance: { $a0 }
line-applies = {" "}(applies)
line-band = Band { $a0 } of the budget ({ $a1 } to { $a2 }): part { $a3 } x provider share { $a4 } = { $a5 }
line-band-beyond = beyond { $a0 }
line-band-label = Risk band { $a0 }
line-band-open = open
line-band-range = { $a0 } to { $a1 }
line-bundled-result = Result = { $a0 } - { $a1 } = { $a2 }
line-bundled-result-label = Result before stop-gain / stop-loss
line-bundled-settlement = Settlement = { $a0 }
line-bundled-settlement-label = Bundled settlement
line-bundled-target = Target total = { $a0 } per episode x { $a1 } episodes = { $a2 }
line-bundled-target-label = Target total
line-cap = Cap = { $a0 } = { $a1 }; claimed { $a2 }; each activity at most what the cap leaves, in the listed order
line-cap-claimed = { $a0 } { $a1 }
line-cap-label = Claim cap on { $a0 }
line-cap-per-client = { $a0 } per client x { $a1 } clients
line-cap-per-client-month = { $a0 } per client-month x { $a1 } client-months
line-cap-per-year = { $a0 } per year
line-capitation-budget = Budget = { $a0 } per member-year x { $a1 } = { $a2 }
line-capitation-budget-label = Population budget
line-capitation-payer = Payer's part = { $a0 } - { $a1 } = { $a2 }
line-capitation-payer-label = Payer's part of the result
line-capitation-payment-label = Capitation settlement
line-capitation-result = Result = { $a0 } - { $a1 } = { $a2 } ({ $a3 } of the budget)
line-capitation-result-label = Result (budget - actual)
line-cents = {" "}+ { $a0 } cents rounding remainder
line-cents-one = {" "}+ 1 cent rounding remainder
line-corridor-between = { $a0 } = { $a1 }: { $a2 } + ({ $a3 } - { $a4 }) x ({ $a5 } - { $a6 }) / ({ $a7 } - { $a8 })
line-corridor-first = { $a0 }, at or below the first row ({ $a1 }): its rate
line-corridor-last = { $a0 }, at or above the last row ({ $a1 }): its rate
line-discount = Discount ({ $a0 }) = { $a1 } x { $a2 } = { $a3 }
line-discount-label = Discount: { $a0 }
line-discount-off = Discount not triggered ({ $a0 })
line-due = Balance of the { $a0 } advance due = { $a1 }
line-due-label = Advance balance due at the end of the term
line-fixed = fixed
line-fm-agreed = agreed amount ({ $a0 }) { $a1 }
line-fm-part = { $a0 } { $a1 }
line-fm-times = { $a0 } x { $a1 }
line-grant = Impulse grant { $a0 } from { $a1 } to { $a2 } = { $a3 }
line-grant-label = Impulse grant: { $a0 }
line-key-contribution = contribution { $a0 } of { $a1 }
line-key-of = { $a0 } of { $a1 }
line-key-rate = { $a0 }
line-lesser-applies = {" "}(the lesser: applies)
line-lesser-not-reached = {" "}(the lesser: not reached)
line-list = { $a0 }
line-loss-rate-clamp = clamp({ $a0 } - { $a1 } x { $a2 } quality, { $a3 }, { $a4 })
line-meets = { $a0 } meets target { $a1 }
line-misses = { $a0 } misses target { $a1 }
line-missing = missing
line-missing-not-met = missing (treated as not met)
line-missing-treated = missing: treated as not met
line-money = { $a0 }
line-name = { $a0 }
line-not-lesser = {" "}(not the lesser)
line-not-reached = {" "}(not reached)
line-nothing = {""}
line-number = { $a0 }
line-p4p-at-least = { $a0 } = { $a1 }, target at least { $a2 }: { $a3 }
line-p4p-at-most = { $a0 } = { $a1 }, target at most { $a2 }: { $a3 }
line-p4p-label = Bonus { $a0 }
line-p4p-met = met: { $a0 }
line-p4p-met-per-member = met: { $a0 } x { $a1 } = { $a2 }
line-p4p-not-met = not met: no bonus
line-payer-part = payer part: { $a0 } of { $a1 }{ $a2 }
line-per-episode = per episode
line-per-member-month = per member-month
line-per-member-year = per member-year
line-provider-part = provider part: { $a0 } of { $a1 }{ $a2 }
line-providers-bear = Providers bear = { $a0 }
line-providers-bear-label = Providers bear
line-providers-keep = Providers keep = { $a0 }
line-providers-keep-label = Providers keep
line-q-higher = { $a0 }: higher is better, threshold { $a1 }, target { $a2 }: { $a3 } = { $a4 }
line-q-label = Quality score: { $a0 }
line-q-linear = ({ $a0 } - { $a1 }) / ({ $a2 } - { $a3 })
line-q-lower = { $a0 }: lower is better, threshold { $a1 }, target { $a2 }: { $a3 } = { $a4 }
line-q-term = { $a0 } x { $a1 }
line-q-total = Quality score = { $a0 } = { $a1 }
line-q-total-label = Quality score
line-q-within = { $a0 }, within 0..1
line-repayment = { $a0 } repays { $a1 } of the { $a2 } advance
line-repayment-amount = Repayment = min({ $a0 } x { $a1 } savings payout, { $a2 } balance) = { $a3 }; balance after = { $a4 }
line-repayment-amount-label = Repayment of the { $a0 } advance to { $a1 }
line-repayment-amount-left = Repayment = min({ $a0 } x { $a1 } savings payout, { $a2 } balance, { $a3 } payout left) = { $a4 }; balance after = { $a5 }
line-repayment-label = Advance repayment
line-revenue = Revenue, { $a0 } = { $a1 }
line-revenue-label = Revenue of { $a0 }
line-revenue-measured = measured ({ $a0 })
line-revenue-own = this contract's payments in the year
line-size-episodes = { $a0 } episodes
line-size-member-months = { $a0 } member-months / 12
line-size-member-months-plain = { $a0 } member-months
line-size-members = { $a0 } members
line-size-members-x12 = { $a0 } members x 12
line-span = { $a0 }->{ $a1 }
line-split = { $a0 }; { $a1 } = { $a2 }
line-split-whole = { $a0 } = { $a1 }
line-ss-after-withhold = After withhold = { $a0 } - { $a1 } = { $a2 }
line-ss-after-withhold-label = Provider share after withhold
line-ss-bears = Payer bears = { $a0 } loss - { $a1 } = { $a2 }
line-ss-bears-label = Payer bears
line-ss-bears-one-sided = One-sided: the payer bears the loss = { $a0 }
line-ss-before-fm = Loss before force majeure = { $a0 }
line-ss-before-fm-label = Provider loss before force majeure
line-ss-benchmark = Benchmark = { $a0 } { $a1 } x { $a2 } trend x { $a3 } = { $a4 }
line-ss-benchmark-agreed = Benchmark = agreed total ({ $a0 }) = { $a1 }
line-ss-benchmark-label = Benchmark (expected cost)
line-ss-benchmark-risk = Benchmark = { $a0 } { $a1 } x { $a2 } trend x { $a3 } risk x { $a4 } = { $a5 }
line-ss-carried = Losses carried to the next year = { $a0 } (netted against later savings)
line-ss-carried-label = Losses carried to the next year
line-ss-corridor = Corridor = { $a0 } x { $a1 } benchmark = { $a2 }
line-ss-corridor-label = Savings corridor
line-ss-corridor-rate = Minimum savings rate ({ $a0 }) = { $a1 }
line-ss-corridor-rate-label = Minimum savings rate
line-ss-fm-fraction = Force majeure fraction = { $a0 } = { $a1 }
line-ss-fm-fraction-label = Force majeure fraction
line-ss-fm-reduction = Force majeure reduction = { $a0 } = { $a1 }
line-ss-fm-reduction-clamped = Force majeure reduction = { $a0 }, at most the loss { $a1 } = { $a2 }
line-ss-fm-reduction-label = Force majeure reduction
line-ss-gate = Quality score { $a0 } is below the gate { $a1 }: no savings share
line-ss-gate-label = Quality gate not met
line-ss-gross = Gross savings = { $a0 } benchmark - { $a1 } actual = { $a2 }
line-ss-gross-label = Gross savings
line-ss-inside-label = Inside-corridor condition
line-ss-inside-met = Inside-corridor condition ({ $a0 }): { $a1 }: savings inside the corridor are shared
line-ss-inside-missed = Inside-corridor condition ({ $a0 }): { $a1 }: nothing inside the corridor is shared
line-ss-keeps = Payer keeps = { $a0 } gross savings - { $a1 } payout = { $a2 }
line-ss-keeps-label = Payer keeps
line-ss-lapsed = Losses not netted by the end of the term = { $a0 } (they lapse with the term)
line-ss-lapsed-label = Losses not netted by the end of the term
line-ss-loss = Loss = { $a0 }
line-ss-loss-cap = Loss cap = { $a0 } x { $a1 } benchmark = { $a2 }{ $a3 }
line-ss-loss-cap-label = Loss cap
line-ss-loss-corridor = Loss corridor = { $a0 } x { $a1 } benchmark = { $a2 }
line-ss-loss-corridor-label = Loss corridor
line-ss-loss-corridor-rate = Minimum loss rate ({ $a0 }) = { $a1 }
line-ss-loss-corridor-rate-label = Minimum loss rate
line-ss-loss-label = Loss (actual cost above benchmark)
line-ss-loss-payment-label = Shared loss payment
line-ss-loss-rate = Loss rate = { $a0 } = { $a1 }
line-ss-loss-rate-label = Provider loss rate
line-ss-loss-share = Provider loss share = { $a0 } x { $a1 } = { $a2 }
line-ss-loss-share-label = Provider loss share before cap
line-ss-loss-shared = Loss shared = { $a0 }
line-ss-loss-shared-label = Loss shared
line-ss-loss-shared-none = Loss { $a0 } is below the loss corridor { $a1 }: nothing is shared
line-ss-net = Net savings = { $a0 } - { $a1 } = { $a2 }
line-ss-net-label = Net savings
line-ss-netted = Losses netted = min({ $a0 } carried in, { $a1 } gross savings) = { $a2 }
line-ss-netted-label = Losses of earlier years netted
line-ss-payment-label = Shared savings payout
line-ss-payout = Provider payout = { $a0 }
line-ss-payout-label = Provider savings payout
line-ss-prorated = Pro-rated = { $a0 } x { $a1 } months ({ $a2 }) / 12 = { $a3 }
line-ss-prorated-label = Loss payment pro-rated to the months of participation
line-ss-provider-pays = Provider pays = { $a0 }
line-ss-provider-pays-label = Provider pays of the loss
line-ss-provider-rate = Provider rate = { $a0 } x { $a1 } quality = { $a2 }
line-ss-provider-rate-fixed = Provider rate = { $a1 } (the contract's share)
line-ss-provider-rate-label = Provider share rate
line-ss-provider-share = Provider share = { $a0 } x { $a1 } = { $a2 }
line-ss-provider-share-label = Provider share before withhold and cap
line-ss-provider-share-zero = Provider share = { $a0 } x { $a1 } = { $a2 } (the contract's share is 0%: nothing is paid)
line-ss-rate = Savings rate = { $a0 } / { $a1 } = { $a2 }
line-ss-rate-label = Savings rate
line-ss-risk = Risk factor = { $a0 }
line-ss-risk-label = Risk adjustment factor
line-ss-savings-cap = Cap = { $a0 } x { $a1 } benchmark = { $a2 }{ $a3 }
line-ss-savings-cap-label = Savings cap
line-ss-second-cap = Second loss cap = { $a0 } x { $a1 } { $a2 } = { $a3 }{ $a4 }
line-ss-second-cap-label = Second loss cap
line-ss-shared-above = Savings above the corridor = { $a0 } - { $a1 } = { $a2 }
line-ss-shared-first = Savings shared from the first euro = { $a0 }
line-ss-shared-inside = Savings { $a0 } are below the corridor { $a1 }: shared from the first euro at the inside-corridor rate = { $a2 }
line-ss-shared-label = Savings shared
line-ss-shared-none = Savings { $a0 } are below the corridor { $a1 }: nothing is shared
line-ss-trend = Trend factor { $a0 } = { $a1 } = { $a2 }
line-ss-trend-label = Trend factor { $a0 }
line-ss-withhold = Withhold = { $a0 } x { $a1 } = { $a2 }
line-ss-withhold-label = Withhold
line-stop-gain = Stop-gain = { $a0 } x { $a1 } = { $a2 }{ $a3 }
line-stop-gain-label = Stop-gain
line-stop-loss = Stop-loss = { $a0 } x { $a1 } = { $a2 }{ $a3 }
line-stop-loss-label = Stop-loss
line-surcharge = Surcharge ({ $a0 }) = { $a1 } x { $a2 } = { $a3 }
line-surcharge-label = Surcharge: { $a0 }
line-surcharge-off = Surcharge not triggered ({ $a0 })
line-top-up = Top-up = max(0, { $a0 } floor - { $a1 } revenue) = { $a2 }
line-top-up-label = Revenue guarantee top-up
line-trend-fixed = (1 + { $a0 })^{ $a1 }
line-trend-index = index { $a0 } ({ $a1 }) / { $a2 } ({ $a3 })
line-trend-year = (1 + { $a0 } { $a1 })
line-trigger-always = always
line-trigger-meets = { $a0 } { $a1 } meets target { $a2 }
line-trigger-misses = { $a0 } { $a1 } misses target { $a2 }
line-volume-activity-code-label = { $a0 } (code { $a1 })
line-volume-amount = { $a0 } { $a1 }s (after caps) x { $a2 } = { $a3 }
line-volume-max = Capped at the yearly maximum { $a0 }: { $a1 } - { $a2 } = { $a3 }
line-volume-max-label = Yearly maximum
line-volume-payment-label = Volume payment { $a0 }
line-waived = Balance of the { $a0 } advance waived = { $a1 }
line-waived-label = Advance balance waived at the end of the term
