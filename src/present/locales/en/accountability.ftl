# Accountability per funding stream (present::accountability, `vereffen
# settle accountability`) and the words of allocation-key lines. Ids and
# arguments match nl/accountability.ftl.

accountability-line-part-label = { $a0 }: part { $a1 }
accountability-line-part = Part { $a0 } = { $a1 } x { $a2 } ({ $a3 }) / { $a4 } = { $a5 }{ $a6 }

accountability-whole-route = { $from } -> { $to }, split over the funding streams by the allocation key below

accountability-title = Accountability per funding stream: { $contract }, year { $year }
accountability-draft = DRAFT: computed from figures not all agreed; not a statement to account from
accountability-statement = Statement { $hash } ({ $standing })
accountability-sign-rule = Every payment reads FROM -> TO with a positive amount in { $currency }.
accountability-no-transfers = No payments in this year.
accountability-stream = Funding stream { $stream }
accountability-detail = line { $line }, contract clause [{ $clause }], { $kind }
accountability-key = allocation key [{ $clause }]: { $figures }; split of { $whole } (line { $line })
accountability-kind-result = result
accountability-kind-loan = loan
accountability-total-to-providers = Total payers -> providers
accountability-total-to-payers = Total providers -> payers
accountability-total-net = Net to providers

accountability-csv-contract = contract
accountability-csv-year = year
accountability-csv-stream = funding_stream
accountability-csv-row = row
accountability-csv-from = from
accountability-csv-to = to
accountability-csv-amount = amount_{ $currency }
accountability-csv-kind = kind
accountability-csv-title = title
accountability-csv-line = line
accountability-csv-clause = contract_clause
accountability-csv-key = allocation_key
accountability-csv-draft = {" "}(DRAFT)
accountability-csv-row-transfer = payment
accountability-csv-row-to-providers = total_payers_to_providers
accountability-csv-row-to-payers = total_providers_to_payers
accountability-csv-row-net = net_to_providers
