# Words of the settlement documents of branch `corrections`: correction
# payments after a resettlement (`settle`), two statements compared
# (`settle diff`). Each id has a Dutch twin in ../nl/settle.ftl.

settle-receives = receives { $amount }
settle-pays = pays { $amount }
settle-earned = earned { $amount }
settle-bore = bore { $amount }
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
