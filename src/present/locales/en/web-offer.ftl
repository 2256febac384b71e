# The web workspace: offering contract versions (web/offer.rs): propose,
# counter, amend (preview, then sign) and withdraw.

web-offer-new = New contract
web-offer-new-intro = Propose a new contract on one of the ledgers where this node signs for a party: upload the contract file (TOML) or paste its text. You will see the terms before you sign.
web-offer-no-ledger = This node holds no key of a registered party in any of its ledgers, so it cannot propose a contract. Registering parties and keys is done with the command line.
web-offer-as = as { $party }
web-offer-file = Contract file (TOML)
web-offer-paste = Or paste the contract text
web-offer-text-note = At most { $mib } MiB. A file, when chosen, is used rather than pasted text.
web-offer-preview = Preview
web-offer-counter = Counter-proposal
web-offer-counter-intro = Answer a version offered by another party with terms of your own: upload the changed contract file or paste its text. You will see the changes before you sign.
web-offer-answers = Answers version { $version } ({ $kind }).
web-offer-answer-which = Version answered
web-offer-amend = Amendment
web-offer-amend-intro = Propose new terms for the contract in force (version { $version }), governing from a year on; the first year still open is { $year }.
web-offer-effective-from = Effective from (year)
web-offer-withdraw = Withdraw an offer
web-offer-withdraw-version = Your offer: version { $version } ({ $kind }), not yet agreed.
web-offer-reason-optional = Reason (optional)
web-offer-withdraw-button = Withdraw and sign
web-offer-too-large = The upload is too large: a contract text may be at most { $mib } MiB. Nothing was written.
web-offer-not-text = The field { $field } is not UTF-8 text. Nothing was written.
web-offer-no-target = The form named no version to answer; reload the contract page. Nothing was written.
web-offer-bad-year = "{ $value }" is not a year; give the first contract year the amendment governs. Nothing was written.
web-offer-bad-kind = The form named no kind of offer (counter or amend); reload the contract page. Nothing was written.
web-offer-no-text = Choose a contract file or paste the contract text. Nothing was written.
web-offer-invalid = The contract is not valid
web-offer-invalid-count = { $n ->
    [one] One problem; nothing was written. Correct it and preview again:
   *[other] { $n } problems; nothing was written. Correct them and preview again:
}
web-offer-other-contract = The text is of contract { $file }, not of { $contract }, whose page this is. Nothing was written.
web-offer-preview-propose = Preview: proposing contract { $contract }
web-offer-preview-counter = Preview: counter-proposal for contract { $contract }
web-offer-preview-amend = Preview: amendment of contract { $contract } from { $year }
web-offer-version = These terms are version { $version }, on ledger { $ledger }.
web-offer-nothing-yet = Nothing is signed yet. Read the terms below; signing offers exactly this version with the organisation's key.
web-offer-changes = { $n ->
    [one] One change against version { $version }
   *[other] { $n } changes against version { $version }
}
web-offer-sign-heading = Sign
web-offer-sign-intro = Enter your password to sign and offer this version to the other parties.
web-offer-sign = Sign and offer
web-offer-cancel = Cancel: back without signing
web-offer-hash-mismatch = The text sent is not the text previewed; nothing was written. Upload the file again and preview it.
web-offer-stale = The contract changed since the preview (a new version arrived); nothing was written. Reload the contract page, look at the new version, and preview again.
web-offer-done-propose = Signed: the contract is proposed to the other parties.
web-offer-done-counter = Signed: your counter-proposal is offered.
web-offer-done-amend = Signed: the amendment is offered.
web-offer-done-withdraw = Recorded: your offer is withdrawn.
