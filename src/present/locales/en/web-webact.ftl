# The web workspace: signing from the browser (figures, co-signing, the
# signature log). Dutch twin: ../nl/web-webact.ftl.
web-act-back = Back to the page
web-act-password = Your password (to confirm)
web-act-not-signer = Only a user with the role signer may sign; you are { $role }. Nothing was signed.
web-act-wrong-password = The password is not right; nothing was signed. Too many wrong attempts block signing and logging in for a quarter of an hour.
web-act-no-key = This node holds no key of a party in this ledger, so nothing can be signed here.
web-act-nothing = There was nothing to sign.
web-act-log-failed = The entries { $entries } were signed and written, but the signature log could not be written ({ $error }). Tell the node's operator.
web-act-field-required = { $field } is required; nothing was signed.
web-act-field-too-long = { $field } is longer than { $max } characters; nothing was signed.
web-act-not-decimal = { $value } is not an exact decimal number (write it as 1234.56: digits, one point, no thousands separators); nothing was signed.
web-act-done-submit = Figure submitted and signed.
web-act-done-attest = Figure attested.
web-act-done-attest-all = Every pending figure attested.
web-act-done-dispute = Figure disputed.
web-act-done-correct = Correction submitted and signed.
web-act-done-cosign = Statement signed.
web-act-done-resettle = Corrected statement signed: it replaces the settled one once every signatory has signed it.
web-fig-link = Figures
web-fig-to-statement = The statement of this year
web-fig-title = Figures of { $contract }, { $year }
web-fig-acting-as = This node signs as { $party }.
web-fig-caption = { $n ->
    [one] One figure
   *[other] { $n } figures
}
web-fig-col-indicator = Indicator
web-fig-col-period = Period
web-fig-col-value = Value
web-fig-col-unit = Unit
web-fig-col-source = Source
web-fig-col-to-act = Who must act
web-fig-col-actions = Act
web-fig-state-agreed = agreed
web-fig-state-pending = pending
web-fig-state-disputed = disputed
web-fig-state-superseded = superseded
web-fig-state-conflict = conflict
web-fig-state-missing = missing
web-fig-to-submit = { $parties } to submit
web-fig-to-attest = { $parties } to attest
web-fig-to-correct-disputed = { $parties } to correct (disputed: { $reasons })
web-fig-to-correct-conflict = { $parties } to correct one of the conflicting figures
web-fig-settlement-conflict = CONFLICT: { $what }
web-fig-derived = derived from a file (blake3 { $hash })
web-fig-correction-reason = correction: { $reason }
web-fig-value = Value
web-fig-new-value = New value
web-fig-note = Note
web-fig-reason = Reason
web-fig-submit = Submit
web-fig-attest = Attest
web-fig-dispute = Dispute
web-fig-correct = Correct
web-fig-attest-all-intro = Attest every figure of this year that waits for your attestation.
web-fig-attest-all = Attest all pending
web-fig-not-in-year = { $entry } is not a figure of this contract and year; nothing was signed.
web-fig-not-missing = { $indicator } { $period } is not a missing figure of this contract and year; nothing was signed.
web-sign-heading = Co-sign as { $party }
web-sign-you-sign = You sign, as { $party }, the { $year } statement { $hash } with these amounts:
web-sign-amounts = Amounts per party being signed
web-sign-receives = Receives ({ $currency })
web-sign-pays = Pays ({ $currency })
web-sign-payment = { $from } pays { $to } { $amount }
web-sign-no-payments = No payments.
web-sign-button = Sign the statement
web-sign-stale = The figures changed since this page was drawn, so the statement differs from the one shown; nothing was signed. Reload the page, check the amounts and sign again.
web-sign-already = This statement is already signed by your party or settled; nothing was signed.
web-sign-settled = SETTLED
web-resettle-heading = Resettle { $year } as { $party }
web-resettle-explain = { $year } is settled with statement { $old }, but the agreed figures now give statement { $new }: a figure was corrected after the year was settled. The corrections against the settled statement are shown below. Signing the corrected statement replaces the settled one once every signatory has signed it; until then the settled statement stands.
web-resettle-button = Sign the corrected statement
web-sig-title = Signatures
web-sig-intro = Every signature this workspace caused: who, from where, on what. Newest first.
web-sig-not-allowed = The signature log is for signers and auditors; you are { $role }.
web-sig-none = The workspace has caused no signature yet.
web-sig-caption = { $n ->
    [one] One signature
   *[other] { $n } signatures
}
web-sig-skipped = Skipped in the log: { $what }
web-sig-col-time = Time
web-sig-col-address = Address
web-sig-col-action = Action
web-sig-col-entries = Entries
