# Verantwoording per financieringsstroom (present::accountability, `vereffen
# settle accountability`) en de woorden van regels van een verdeelsleutel.
# Ids en argumenten gelijk aan en/accountability.ftl.

accountability-line-part-label = { $a0 }: deel { $a1 }
accountability-line-part = Deel { $a0 } = { $a1 } x { $a2 } ({ $a3 }) / { $a4 } = { $a5 }{ $a6 }

accountability-whole-route = { $from } -> { $to }, verdeeld over de financieringsstromen met de verdeelsleutel hieronder

accountability-title = Verantwoording per financieringsstroom: { $contract }, jaar { $year }
accountability-draft = CONCEPT: berekend met cijfers die niet alle zijn vastgesteld; geen afrekening om uit te verantwoorden
accountability-statement = Afrekening { $hash } ({ $standing })
accountability-sign-rule = Elke betaling leest VAN -> NAAR met een positief bedrag in { $currency }.
accountability-no-transfers = Geen betalingen in dit jaar.
accountability-stream = Financieringsstroom { $stream }
accountability-detail = regel { $line }, contractbepaling [{ $clause }], { $kind }
accountability-key = verdeelsleutel [{ $clause }]: { $figures }; verdeling van { $whole } (regel { $line })
accountability-kind-result = resultaat
accountability-kind-loan = lening
accountability-total-to-providers = Totaal betalers -> aanbieders
accountability-total-to-payers = Totaal aanbieders -> betalers
accountability-total-net = Per saldo naar aanbieders

accountability-csv-contract = contract
accountability-csv-year = jaar
accountability-csv-stream = financieringsstroom
accountability-csv-row = rij
accountability-csv-from = van
accountability-csv-to = naar
accountability-csv-amount = bedrag_{ $currency }
accountability-csv-kind = soort
accountability-csv-title = titel
accountability-csv-line = regel
accountability-csv-clause = contractbepaling
accountability-csv-key = verdeelsleutel
accountability-csv-draft = {" "}(CONCEPT)
accountability-csv-row-transfer = betaling
accountability-csv-row-to-providers = totaal_betalers_naar_aanbieders
accountability-csv-row-to-payers = totaal_aanbieders_naar_betalers
accountability-csv-row-net = per_saldo_naar_aanbieders
