# The web workspace's audit pages (src/web/audit.rs).
web-audit = Audit
web-audit-of-ledger = Audit of this ledger
web-audit-signatures = Signature log: which user caused which signature
web-audit-roles = Every user of this workspace (viewer, signer, auditor) may read the audit pages; they change nothing. Only signers sign.
web-audit-none = This node holds no ledgers yet.
web-audit-caption = { $n ->
    [one] One ledger on this node
   *[other] { $n } ledgers on this node
}
web-audit-no-checkpoint = none recorded
web-audit-checkpoint = { $origin }, tree size { $size }, { $n ->
    [0] cosigned by nobody
    [one] cosigned by one witness
   *[other] cosigned by { $n } witnesses
}
web-col-entries = Entries
web-col-anomalies = Anomalies
web-col-last-checkpoint = Last checkpoint
web-verify = Verification
web-verify-ok = verify OK: chain intact, every id, signature, key and reference checks out
web-verify-failed = verify FAILED
web-verify-cannot = this copy could not be verified
web-verify-signatures = Signatures checked
web-verify-replayed = Settlement signatures whose statement was recomputed from its signed inputs
web-verify-torn = Torn tail
web-verify-conflicts = Settlement conflicts
web-verify-void = Void entries (they count for nothing)
