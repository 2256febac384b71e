# The statement as a document (HTML, PDF): the words it has besides those of
# the terminal statement (statement.ftl) and the corrections (settle.ftl).
# Each message has a Dutch twin in ../nl/document.ftl.
document-key-currency = currency
document-key-signs = sign convention
document-signs = every amount is 0 or more; a payment reads FROM -> TO; per party: receives or pays (cash), earned or bore (result)
document-derivation-caption = Every line of the computation, with its formula in words
document-col-line = LINE
document-col-route = FROM -> TO
document-col-funding = FUNDING STREAM
document-col-balance = BALANCE
document-col-amount = AMOUNT
document-col-key = KEY FINGERPRINT
document-col-statement = STATEMENT
document-col-time = SIGNED AT (AUTHOR'S CLOCK)
document-col-entry = ENTRY
document-signatures-heading = SIGNATURES AND STATE
document-state = This statement: { $standing }
document-no-signatures = No statement of this year is signed yet.
document-page = page { $n } of { $total }
