# `vereffen log`: one line per entry. Dutch twin: ../nl/log.ftl.
log-register = registers { $party } as { $role } ({ $name }), key { $key }
log-rotate = adds key { $key } to { $party }{ $retire }
log-rotate-retires = , retires { $key }
log-revoke = revokes key { $key } of { $party }: { $reason }
log-note-on = note on { $contract }: { $text }
log-note = note: { $text }
log-for = { " " }for { $party }
log-propose = proposes { $contract } version { $version }
log-counter = counters { $contract } { $answers } with version { $version }
log-amend = amends { $contract } from { $year }: version { $version }
log-accept = signs { $contract } version { $version }{ $behalf }
log-reject = rejects { $contract } version { $version }{ $behalf }: { $reason }
log-withdraw = withdraws { $contract } version { $version }
log-contract-other = { $kind } on { $contract }
log-submit = measures { $indicator } { $period } = { $value }{ $reason }
log-correct = corrects { $indicator } { $period } = { $value }{ $reason }
log-attest = attests measurement { $measurement }
log-dispute = disputes measurement { $measurement }: { $reason }
log-mandate-grant = mandates { $grantee } to sign for { $party } ({ $contracts } years { $first }-{ $last })
log-mandate-revoke = revokes mandate { $mandate }: { $reason }
log-sign = signs the { $contract } { $year } statement { $hash }{ $resettlement }
log-resettlement = { " " }(resettlement)
log-other = { $kind } by { $party }
log-void = VOID (key ended by { $ending }): { $summary }
log-col-seq = SEQ
log-col-id = ID
log-col-kind = KIND
log-col-author = AUTHOR
log-col-time = TIME
log-col-summary = SUMMARY
