# The web workspace: the entry page and a statement's drill-down to the
# signed entries it came from (web/entry.rs).

web-entry-title = Entry { $id }
web-entry-void = This entry is void in this copy (its author's key was revoked before it was written): no figure, signature or statement counts it.
web-entry-id = Entry id (blake3 of the signed bytes)
web-entry-seq = Position in this copy's journal
web-entry-kind = Kind
web-entry-author = Author (party)
web-entry-time = Time the author claims
web-entry-contract = Contract
web-entry-signatures = Signatures
web-entry-key = Key fingerprint
web-entry-key-party = Party of the key
web-entry-verified = Every signature was checked against the ledger's registry when the entry entered this copy; `vereffen verify` checks them again.
web-entry-refs = Entries it refers to
web-entry-no-refs = None.
web-entry-not-held = (not in this copy)
web-entry-referrers = Entries that refer to it
web-entry-no-referrers = None in this copy.
web-entry-referrers-cut = Only the first { $n } are listed.
web-entry-bytes = Signed bytes
web-entry-bytes-note = Exactly what was signed and hashed (canonical JSON, docs/FORMAT.md): an auditor can recompute the entry id from them.
web-entry-used-heading = Figures used and their signed entries
web-entry-used-note = Every agreed figure this statement is computed from, with the entry that submitted it and the entries of the parties that signed it. Follow a figure to its row on the figures page, or an entry to what it says and who signed it.
web-entry-indicator = Indicator
web-entry-period = Period
web-entry-value = Value
web-entry-source = Source
web-entry-submitted = Submitted in
web-entry-signed-by = Attested by
web-entry-statement-signed = Entries that signed this statement
