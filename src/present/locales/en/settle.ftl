# Words of the settlement documents of branch `corrections`: correction
# payments after a resettlement (`settle`), two statements compared
# (`settle diff`). Each id has a Dutch twin in ../nl/settle.ftl.

settle-col-party = PARTY
settle-col-before = SETTLED BEFORE
settle-col-now = NOW
settle-col-correction = CORRECTION
settle-col-line = LINE
settle-col-a = A
settle-col-b = B
settle-col-difference = B - A

settle-corr-heading = CORRECTIONS AGAINST THE REPLACED STATEMENT { $hash }
settle-corr-note-settled = (the statement settled, and paid, before this one, which replaced it: per party what it received or paid on balance then and now)
settle-corr-note-open = (the settled statement, already paid; signing this one with --resettle replaces it: per party what it received or paid on balance then and now)
settle-corr-payments = CORRECTION PAYMENTS (FROM -> TO: who pays the difference back to whom)
settle-corr-none = no correction payments: every party receives and pays what it did before
settle-corr-csv-replaces = replaced statement
settle-corr-csv-before = settled before (above 0: receives)
settle-corr-csv-now = now (above 0: receives)
settle-corr-csv-correction = correction (above 0: receives; below 0: pays back)

settle-diff-heading = STATEMENTS COMPARED { $contract } { $year }
settle-diff-side = { $side }  statement { $hash }: { $what }
settle-diff-current = what this copy computes now
settle-diff-settled = the settled statement
settle-diff-replaced = a replaced statement (settled before, then resettled)
settle-diff-signed = signed by { $parties }, not settled
settle-diff-lines = DERIVATION, LINE BY LINE
settle-diff-no-line = -
settle-diff-payments = PAYMENTS (FROM -> TO)
settle-diff-parties = CASH ON BALANCE PER PARTY
settle-diff-results = RESULT PER PARTY (earned, or borne below 0)
settle-diff-same = the two statements have the same lines, payments and parties

settle-sum-heading = TERM SUMMARY { $contract } { $first }-{ $last }
settle-sum-sign-rule = (amounts in { $currency }; every payment reads FROM -> TO; per party: received, paid, and what it receives or pays on balance)
settle-col-year = YEAR
settle-col-state = STATE
settle-col-statement = STATEMENT
settle-state-settled = settled
settle-state-settled-in-conflict = settled, conflict
settle-state-signed = signed, not settled
settle-state-computable = computable, not signed
settle-state-open = open
settle-sum-cash = CASH PER PARTY (what moved: every payment, advances and repayments included)
settle-col-received = RECEIVED
settle-col-paid = PAID
settle-col-loans-in = LOANS IN
settle-col-loans-out = LOANS OUT
settle-col-on-balance = ON BALANCE
settle-sum-result = RESULT PER PARTY (earned or borne: advances and their repayments are loans, not results)
settle-col-result = RESULT
settle-sum-term = term
settle-sum-balances = BALANCES AT YEAR END
settle-sum-advance = advance { $impulse } of { $year } outstanding: { $recipient } owes { $payer } ({ $funding })
settle-sum-losses = losses carried forward
settle-sum-top-ups = revenue-guarantee top-ups (settled within the year, nothing carried)
settle-sum-open = STILL OPEN
settle-sum-nothing-open = nothing: every year is settled
settle-sum-no-statement = no statement yet
settle-sum-waiting = waiting for the signatures of { $parties }
settle-sum-blocker = figure { $indicator } { $period }: { $state } (to act: { $parties })
settle-sum-state-missing = missing
settle-sum-state-pending = pending
settle-sum-state-disputed = disputed
settle-sum-state-conflict = in conflict

settle-warn-settled-differs = warning: { $year } is settled with statement { $settled }, but this copy now computes { $computed }: { $why }
settle-warn-see-status = see `vereffen settle status`
settle-diff-no-year = { $year } is not a year of contract { $quoted } in force (`vereffen settle status { $contract }`)
