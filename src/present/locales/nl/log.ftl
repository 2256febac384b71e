# `vereffen log`: een regel per boeking. Engelse tweeling: ../en/log.ftl.
log-register = registreert { $party } als { $role } ({ $name }), sleutel { $key }
log-rotate = voegt sleutel { $key } toe aan { $party }{ $retire }
log-rotate-retires = , stelt { $key } buiten gebruik
log-revoke = trekt sleutel { $key } van { $party } in: { $reason }
log-note-on = notitie bij { $contract }: { $text }
log-note = notitie: { $text }
log-for = { " " }namens { $party }
log-propose = stelt { $contract } versie { $version } voor
log-counter = doet op { $contract } { $answers } een tegenvoorstel met versie { $version }
log-amend = wijzigt { $contract } vanaf { $year }: versie { $version }
log-accept = ondertekent { $contract } versie { $version }{ $behalf }
log-reject = wijst { $contract } versie { $version }{ $behalf } af: { $reason }
log-withdraw = trekt { $contract } versie { $version } in
log-contract-other = { $kind } op { $contract }
log-submit = meet { $indicator } { $period } = { $value }{ $reason }
log-correct = corrigeert { $indicator } { $period } = { $value }{ $reason }
log-attest = geeft akkoord op meting { $measurement }
log-dispute = betwist meting { $measurement }: { $reason }
log-mandate-grant = machtigt { $grantee } om te ondertekenen namens { $party } ({ $contracts } jaren { $first }-{ $last })
log-mandate-revoke = trekt machtiging { $mandate } in: { $reason }
log-sign = ondertekent de afrekening { $contract } { $year } { $hash }{ $resettlement }
log-resettlement = { " " }(herafrekening)
log-other = { $kind } door { $party }
log-void = ONGELDIG (sleutel beëindigd door { $ending }): { $summary }
log-col-seq = NR
log-col-id = ID
log-col-kind = SOORT
log-col-author = AUTEUR
log-col-time = TIJD
log-col-summary = OMSCHRIJVING
